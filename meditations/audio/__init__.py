"""Audio primitives: samples, resampling, loudness (BS.1770), generated sounds and user recordings, and the
statistics cached with each clip. Imports the model and files."""
