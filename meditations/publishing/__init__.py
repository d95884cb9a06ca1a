"""Making the published files of a library: the playlist, the web page and the podcast feed (publish.py runs
them)."""
