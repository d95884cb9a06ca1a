"""Mixing: the timeline played into audio block by block, with its bed, ducking, loudness and fades."""
