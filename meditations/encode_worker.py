"""The MP3 encoder in a process of its own, so that encoding runs on one core while mixing runs on another.

lameenc holds Python's global lock while it encodes, so a thread would not overlap the two. This
module imports nothing but lameenc: it starts quickly. It reads 16-bit PCM on standard input and
writes the MP3 to the file named on its command line.
"""

from __future__ import annotations

import sys

CHUNK = 1 << 20


def main(argv: list[str]) -> int:
    """encode_worker BITRATE RATE CHANNELS QUALITY OUTFILE < pcm; exits 3 with the reason on stderr when
    the file cannot be written (a full disk, say)."""
    import lameenc

    bitrate, rate, channels, quality = (int(v) for v in argv[:4])
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(quality)
    frame = 2 * channels
    try:
        # The file exists already (meditate made it, with its pid in the name). Never create it: an encoder
        # whose meditate was killed must not bring back a temporary file a later clean-up has removed.
        with open(argv[4], "r+b") as out:
            out.truncate(0)
            rest = b""
            while True:
                data = sys.stdin.buffer.read(CHUNK)
                if not data:
                    break
                data = rest + data
                whole = len(data) // frame * frame
                out.write(encoder.encode(data[:whole]))
                rest = data[whole:]
            out.write(encoder.flush())
    except OSError as exc:
        sys.stderr.write(exc.strerror or str(exc))
        return CANNOT_WRITE
    return 0


CANNOT_WRITE = 3


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except OSError as exc:  # a full disk or a folder that became unwritable: one line for the parent to report
        sys.stderr.write(f"cannot write the track: {exc.strerror}\n")
        sys.exit(1)
