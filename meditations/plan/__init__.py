"""Planning (pure): every sound and silence of a track at an exact sample, from a script and the lengths of
its clips. No engine, no file is touched here."""
