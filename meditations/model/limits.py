"""The values a setting may take, written once: the script loader and the command line both check against
these (a new setting of the kind adds its range here)."""

from __future__ import annotations

SAMPLE_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)  # Hz: those an MP3 can have
# kbit/s, in the order of an MP3 frame header's bitrate index (index 0, "free", is not used). From 32,000 Hz up
# an MP3 is MPEG-1; below, MPEG-2 or 2.5, whose frames know 8, 16, 24 and 144 but nothing above 160.
MPEG1_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MPEG2_BITRATES = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
BITRATES = tuple(sorted(set(MPEG1_BITRATES) | set(MPEG2_BITRATES)))  # every one a script may name
CHANNELS = (1, 2)  # mono or stereo
LOUDNESS_RANGE = (-36, -9)  # LUFS: quieter is lost on a phone's speaker, louder is crushed by the limiter
