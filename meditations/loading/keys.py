"""The keys each kind of file takes at its top (docs/script-format.md lists them in this order)."""

SCRIPT_KEYS = ("title", "description", "author", "album", "genre", "language", "tags", "voice", "pace",
               "audio", "variables", "background", "length", "lead_in", "fade_out", "loudness", "cue_words", "cover",
               "steps")
LIBRARY_KEYS = ("album", "artist", "genre", "language", "voice", "pace", "audio", "variables", "background",
                "lead_in", "fade_out", "loudness", "cue_words", "cover", "description", "base_url")
PARTIAL_KEYS = ("steps", "description", "variables")
