"""Encoding and checking: MP3 pieces joined frame by frame, tags and chapters, WebVTT transcripts, and the
checks that a track is what its plan says."""
