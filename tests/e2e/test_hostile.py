"""Hostile and broken input, crashes and interruptions: a located error or a valid track, never a traceback."""

import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import ROOT, decode

BIG = "  - say: hello there\n" * 60000
LEADS_OUT = ("s.yaml:1:1: leads out of the library folder '.' to a file that is not a valid script; nothing of that file "
             "is shown (run meditate validate on it where it is)")
LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"

# (name, files to write (path -> text; "->target" makes a symbolic link), the script to check, exact messages)
CORPUS = [
    ("billion laughs", {"s.yaml": LAUGHS + "title: x\nsteps:\n  - say: hi\n"}, "s.yaml",
     ["s.yaml:2:8: YAML aliases (*name) are not supported; write the value out"]),
    ("deep nesting", {"s.yaml": "title: x\nsteps:\n  - say: " + "[" * 45 + "]" * 45 + "\n"}, "s.yaml",
     ["s.yaml:3:47: nested deeper than the limit of 40 levels (MEDITATE_MAX_NESTING)"]),
    ("python object tag", {"s.yaml": "title: !!python/object/new:os.system [ls]\nsteps:\n  - say: hi\n"}, "s.yaml",
     ["s.yaml:1:8: YAML tag '!!python/object/new:os.system' is not allowed in a script"]),
    ("python name tag", {"s.yaml": "title: !!python/name:os.system x\nsteps:\n  - say: hi\n"}, "s.yaml",
     ["s.yaml:1:8: YAML tag '!!python/name:os.system' is not allowed in a script"]),
    ("custom tag", {"s.yaml": "title: !secret x\nsteps:\n  - say: hi\n"}, "s.yaml",
     ["s.yaml:1:8: YAML tag '!secret' is not allowed in a script"]),
    ("file too large", {"s.yaml": "title: x\nsteps:\n" + BIG}, "s.yaml",
     ["s.yaml:1:1: file is 1260016 bytes, over the limit of 1000000 bytes (MEDITATE_MAX_FILE_BYTES)"]),
    ("text too long", {"s.yaml": "title: x\nsteps:\n  - say: " + "word " * 4200 + "\n"}, "s.yaml",
     ["s.yaml:3:10: this text is 20999 characters, over the limit of 20000 (MEDITATE_MAX_TEXT_CHARS)"]),
    ("include through a link that leaves the library",
     {"lib/_p/link.yaml": "->../../outside.yaml", "outside.yaml": "steps:\n  - say: secret\n",
      "lib/s.yaml": "title: x\nsteps:\n  - include: _p/link.yaml\n"}, "lib/s.yaml",
     ["lib/s.yaml:3:14: include '_p/link.yaml' is outside the library folder 'lib'"]),
    ("absolute include", {"s.yaml": "title: x\nsteps:\n  - include: /etc/passwd\n"}, "s.yaml",
     ["s.yaml:3:14: include '/etc/passwd' is outside the library folder '.'"]),
    ("include of a folder", {"_p/a.yaml": "steps: [{say: hi}]\n", "s.yaml": "title: x\nsteps:\n  - include: _p\n"},
     "s.yaml", ["s.yaml:3:14: include '_p' is a folder, not a file"]),
    ("include of binary garbage", {"_g.yaml": "\x00\x01garbage", "s.yaml": "title: x\nsteps:\n  - include: _g.yaml\n"},
     "s.yaml", ["_g.yaml:1:1: not a text file (it contains NUL bytes)"]),
    ("include of itself", {"s.yaml": "title: x\nsteps:\n  - include: s.yaml\n"}, "s.yaml",
     ["s.yaml:3:14: include cycle: s.yaml -> s.yaml"]),
    ("recording outside", {"s.yaml": "title: x\nsteps:\n  - say: {text: hi, recording: ../x.wav}\n", "../x.wav": "RIFF"},
     "s.yaml", ["s.yaml:3:32: 'say.recording' file '../x.wav' is outside the library folder '.'"]),
    ("background through a link", {"link.wav": "->../outside.wav", "../outside.wav": "RIFF",
                                   "s.yaml": "title: x\nbackground: {sound: link.wav}\nsteps:\n  - say: hi\n"},
     "s.yaml", ["s.yaml:2:21: 'background.sound' file 'link.wav' is outside the library folder '.'"]),
    ("cover outside", {"s.yaml": "title: x\ncover: /etc/hostname\nsteps:\n  - say: hi\n"}, "s.yaml",
     ["s.yaml:2:8: 'cover' file '/etc/hostname' is outside the library folder '.'"]),
    ("bell sound that is not audio", {"b.txt": "x", "s.yaml": "title: x\nsteps:\n  - bell: {sound: b.txt}\n"},
     "s.yaml", ["s.yaml:3:19: 'bell.sound' must be a .wav, .mp3, .ogg, .flac, .m4a, .aac or .opus file"]),
    ("absurd pause", {"s.yaml": "title: x\nsteps:\n  - pause: 1000h\n"}, "s.yaml",
     ["s.yaml:3:12: the track would last over the limit of 4:00:00 (MEDITATE_MAX_TRACK_SECONDS)"]),
    ("pauses that add up", {"s.yaml": "title: x\nsteps:\n  - repeat: 1000\n    steps:\n      - pause: 20s\n"}, "s.yaml",
     ["s.yaml:5:16: the track would last over the limit of 4:00:00 (MEDITATE_MAX_TRACK_SECONDS)"]),
    ("absurd breathing", {"s.yaml": "title: x\nsteps:\n  - breathe: {pattern: box, duration: 100h}\n"}, "s.yaml",
     ["s.yaml:3:14: the track would last over the limit of 4:00:00 (MEDITATE_MAX_TRACK_SECONDS)"]),
    ("repeats inside repeats", {"s.yaml": "title: x\nsteps:\n  - repeat: 100\n    steps:\n      - repeat: 100\n"
                                          "        steps:\n          - say: hi\n"}, "s.yaml",
     ["s.yaml:5:17: repeats inside repeats play these steps 10000 times, over the limit of 1000 "
      "(MEDITATE_MAX_REPEAT)"]),
    ("too many repeats", {"s.yaml": "title: x\nsteps:\n  - repeat: 1001\n    steps:\n      - say: hi\n"}, "s.yaml",
     ["s.yaml:3:13: 'repeat' must be between 1 and 1000, got 1001"]),
    ("too many bell strikes", {"s.yaml": "title: x\nsteps:\n  - bell: {strikes: 500}\n"}, "s.yaml",
     ["s.yaml:3:21: 'bell.strikes' must be between 1 and 20, got 500"]),
    ("negative length", {"s.yaml": "title: x\nlength: -5m\nsteps:\n  - pause: 3s\n"}, "s.yaml",
     ["s.yaml:2:9: 'length' must be longer than zero, got '-5m'"]),
    ("two documents", {"s.yaml": "title: x\nsteps:\n  - say: hi\n---\ntitle: y\n"}, "s.yaml",
     ["s.yaml:4:1: YAML syntax error: a script holds one document: remove this '---' and what follows "
      "(or make it a file of its own)"]),
    ("steps left empty", {"s.yaml": "title: x\nsteps:\n"}, "s.yaml",
     ["s.yaml:2:7: 'steps' must be a list of steps (each line starting with '- '), got nothing"]),
    ("an empty step", {"s.yaml": "title: x\nsteps:\n  -\n"}, "s.yaml",
     ["s.yaml:3:4: a step must be a mapping such as '- say: Hello' or '- pause: 5s', got nothing"]),
    ("a number as a key", {"s.yaml": "title: x\n3: y\nsteps:\n  - say: hi\n"}, "s.yaml",
     ["s.yaml:2:1: a key in 'script' must be a word, got 3"]),
    ("unknown preset", {"s.yaml": "title: x\nsteps:\n  - breathe: {pattern: calmest, cycles: 2}\n"}, "s.yaml",
     ["s.yaml:3:24: 'breathe.pattern': 'calmest' is not a breathing pattern: use seconds like 4-7-8 or 4-4-4-4, "
      "or a preset: box, 4-7-8, resonance, soothing, sigh"]),
    ("shell in a voice name", {"s.yaml": "title: x\nvoice: {name: '--help; rm -rf /'}\nsteps:\n  - say: hi\n"},
     "s.yaml", ["s.yaml:2:15: unknown voice '--help; rm -rf /'; run 'meditate voices' to list the voices"]),
    ("a language nobody speaks", {"s.yaml": "title: x\nlanguage: tlh-x\nsteps:\n  - say: hi\n"}, "s.yaml",
     ["s.yaml:4:10: no voice speaks the language 'tlh-x'; run 'meditate voices' to list the voices"]),
    ("placeholder in a partial", {"_p.yaml": "steps:\n  - say: Bye {who}.\n",
                                  "s.yaml": "title: x\nsteps:\n  - include: _p.yaml\n"}, "s.yaml",
     ["_p.yaml:2:14: unknown placeholder '{who}': define it under 'variables:' or pass --set who=VALUE"]),
    ("invalid UTF-8 in a partial", {"_p.yaml": b"steps:\n  - say: caf\xe9\n",
                                    "s.yaml": "title: x\nsteps:\n  - include: _p.yaml\n"}, "s.yaml",
     ["_p.yaml:2:13: not valid UTF-8 text"]),
    ("a bare number", {"s.yaml": "42\n"}, "s.yaml",
     ["s.yaml:1:1: a script must be a mapping with 'title:' and 'steps:', got a number"]),
    ("only a comment", {"s.yaml": "# nothing here\n"}, "s.yaml",
     ["s.yaml:1:1: the script is empty: it needs 'title:' and 'steps:'"]),
    ("unclosed bracket at the end", {"s.yaml": "title: x\nsteps: [\n"}, "s.yaml",
     ["s.yaml:3:1: YAML syntax error: the file ends inside a '[' or '{' that is never closed"]),
    ("unclosed list", {"s.yaml": "title: x\nsteps: [a, b\n"}, "s.yaml",
     ["s.yaml:2:8: YAML syntax error: this '[' is never closed"]),
    ("unclosed mapping", {"s.yaml": "title: x\nvoice: {rate: 100\nsteps: [a]\n"}, "s.yaml",
     ["s.yaml:2:8: YAML syntax error: this '{' is never closed"]),
    # files that are not files: refused before they are opened, so nothing waits on a FIFO
    ("a script that is a FIFO", {"s.yaml": "|fifo"}, "s.yaml",
     ["s.yaml:1:1: is a named pipe (FIFO), not a script file"]),
    ("a script that is a link loop", {"s.yaml": "->s.yaml"}, "s.yaml",
     ["s.yaml:1:1: is a symbolic link that loops (it never leads to a file)"]),
    ("a script that is a device", {"s.yaml": "|device"}, "s.yaml", ["s.yaml:1:1: is a device, not a script file"]),
    ("an include that is a FIFO", {"_p.yaml": "|fifo", "s.yaml": "title: x\nsteps:\n  - include: _p.yaml\n"},
     "s.yaml", ["s.yaml:3:14: include '_p.yaml' is a named pipe (FIFO), not a file"]),
    ("an include that is a link loop", {"_p.yaml": "->_q.yaml", "_q.yaml": "->_p.yaml",
                                        "s.yaml": "title: x\nsteps:\n  - include: _p.yaml\n"},
     "s.yaml", ["s.yaml:3:14: include '_p.yaml' is a symbolic link that loops (it never leads to a file)"]),
    ("a library.yaml that is a FIFO", {"library.yaml": "|fifo", "s.yaml": "title: x\nsteps:\n  - say: hi\n"},
     "s.yaml", ["library.yaml:1:1: is a named pipe (FIFO), not a script file"]),
    ("a library.yaml that is a folder", {"library.yaml/x": "", "s.yaml": "title: x\nsteps:\n  - say: hi\n"},
     "s.yaml", ["library.yaml:1:1: is a folder, not a script file"]),
    ("a recording that is a FIFO", {"r.wav": "|fifo", "s.yaml": "title: x\nsteps:\n  - say: {text: hi, recording: r.wav}\n"},
     "s.yaml", ["s.yaml:3:32: 'say.recording' file 'r.wav' is a named pipe (FIFO), not a file"]),
    ("a background that is a device", {"b.wav": "|device", "s.yaml": "title: x\nbackground: {sound: b.wav}\n"
                                                                     "steps:\n  - say: hi\n"},
     "s.yaml", ["s.yaml:2:21: 'background.sound' file 'b.wav' is a device, not a file"]),
    ("a bell sound that is a link loop", {"b.wav": "->b.wav", "s.yaml": "title: x\nsteps:\n  - bell: {sound: b.wav}\n"},
     "s.yaml", ["s.yaml:3:19: 'bell.sound' file 'b.wav' is a symbolic link that loops (it never leads to a file)"]),
    ("a cover that is not a PNG", {"c.png": "GIF89a not a png", "s.yaml": "title: x\ncover: c.png\nsteps:\n  - say: hi\n"},
     "s.yaml", ["s.yaml:2:8: 'cover' file 'c.png' is not a PNG image (its contents are not PNG)"]),
    ("a cover that is not a JPEG", {"c.jpg": b"\x89PNG\r\n\x1a\n....", "s.yaml": "title: x\ncover: c.jpg\nsteps:\n  - say: hi\n"},
     "s.yaml", ["s.yaml:2:8: 'cover' file 'c.jpg' is not a JPEG image (its contents are not JPEG)"]),
    ("a cover that is a FIFO", {"c.jpg": "|fifo", "library.yaml": "cover: c.jpg\n", "s.yaml": "title: x\nsteps:\n  - say: hi\n"},
     "s.yaml", ["library.yaml:1:8: 'cover' file 'c.jpg' is a named pipe (FIFO), not a file"]),
    # texts
    ("control characters written as escapes", {"s.yaml": 'title: "T\\0x"\nsteps:\n  - say: "Hello\\a there."\n'},
     "s.yaml", ["s.yaml:1:8: 'title' holds a control character (\\x00); remove it",
                "s.yaml:3:10: 'say' holds a control character (\\x07); remove it"]),
    ("a whole number of 5000 digits", {"s.yaml": "title: x\nsteps:\n  - repeat: " + "1" * 5000 + "\n    steps: [{pause: 1s}]\n"},
     "s.yaml", ["s.yaml:3:13: 'repeat' must be a whole number, got '" + "1" * 40 + "…'"]),
    ("an impossible date, read twice", {"s.yaml": "title: x\nlead_in: 2001-02-30\nsteps:\n  - pause: 1s\n"}, "s.yaml",
     ["s.yaml:2:10: 'lead_in': '2001-02-30' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h"]),
    ("a text that speaks nothing", {"s.yaml": "title: x\nsteps:\n  - say: '...'\n"}, "s.yaml",
     ["s.yaml:3:10: 'say' has nothing to speak: its text has no words, only punctuation or markup"]),
    ("cue words that speak nothing", {"s.yaml": "title: x\ncue_words: {in: '...', out: 'Out [pause 1s]'}\n"
                                                "steps:\n  - breathe: {pattern: box, cycles: 1}\n"}, "s.yaml",
     ["s.yaml:2:17: 'cue_words.in' has nothing to speak: it has no words, only punctuation",
      "s.yaml:2:29: 'cue_words.out' is spoken as written: markup such as [pause 2s] does not work in cue words"]),
    ("a text of markup and dashes", {"s.yaml": "title: x\nsteps:\n  - say: '[pause 2s] — ?! [pause 1s]'\n"}, "s.yaml",
     ["s.yaml:3:10: 'say' has nothing to speak: its text has no words, only punctuation or markup"]),
    ("a value with a line break", {"s.yaml": "title: x\nvariables: {name: \"Ana\\n\\nBye\"}\nsteps:\n  - say: Hi {name}.\n"},
     "s.yaml", ["s.yaml:2:19: 'variables.name' holds a line break: a value goes into a sentence, so it must be one line"]),
    ("a value with pause markup", {"s.yaml": "title: x\nvariables: {name: '[pause 9s]'}\nsteps:\n  - say: Hi {name}.\n"},
     "s.yaml", ["s.yaml:2:19: 'variables.name' holds '[': a value is spoken as written, so it cannot hold markup "
                "([pause ...] or braces)"]),
    ("values that fill a text past its limit",
     {"s.yaml": "title: x\nvariables: {v: " + "w" * 15000 + "}\nsteps:\n  - say: '{v} {v}'\n"}, "s.yaml",
     ["s.yaml:4:10: this text is 30001 characters once its placeholders are filled in, over the limit of 20000 "
      "(MEDITATE_MAX_TEXT_CHARS)"]),
    # the file format's own limits
    ("too many chapters", {"s.yaml": "title: x\nsteps:\n  - chapter: Start\n  - repeat: 255\n    steps:\n"
                                     "      - chapter: Again\n      - pause: 1s\n"}, "s.yaml",
     ["s.yaml:6:18: this makes 256 chapters, over the 255 an MP3's table of contents can list"]),
    # error messages quote at most a short excerpt of a file
    ("a script that is a link to a secret", {"../secret.txt": "hunter2-correct-horse-battery-staple\n", "s.yaml": "->../secret.txt"},
     "s.yaml", [LEADS_OUT]),
    ("a script that is a link to credentials", {"../creds.json": '{"client_secret": "hunter2-abc", "title": "hunter2"}\n',
                                                "s.yaml": "->../creds.json"},
     "s.yaml", [LEADS_OUT]),
    ("a secret in a long key", {"s.yaml": "title: x\n" + "k" * 30 + "SECRETSECRETSECRETSECRET: 1\nsteps:\n  - say: hi\n"},
     "s.yaml", ["s.yaml:2:1: unknown key '" + "k" * 30 + "SECRETSECR…' (expected one of: title, description, author, "
                "album, genre, language, tags, voice, pace, audio, variables, background, length, lead_in, fade_out, "
                "loudness, cue_words, cover, steps)"]),
]


def materialize(root, files):
    for name, content in files.items():
        path = (root / name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and content.startswith("->"):
            path.symlink_to(content[2:])
        elif content == "|fifo":
            os.mkfifo(path)
        elif content == "|device":
            try:
                os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: endless
            except PermissionError:
                pytest.skip("making a device file needs root")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("files, script, expected", [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_hostile_corpus(tmp_path, monkeypatch, files, script, expected):
    work = tmp_path / "work"
    work.mkdir()
    materialize(work, files)
    monkeypatch.chdir(work)
    result = CliRunner().invoke(main, ["validate", script])
    assert (result.exit_code, result.stderr.splitlines()) == (1, expected)
    assert "Traceback" not in result.output
    assert "hunter2" not in result.output and "SECRETSECRETSECRET" not in result.output


def test_the_corpus_is_large():
    from test_finish import test_bad_breathing_and_bells, test_bad_finishing_settings
    from test_script_errors import CASES, MORE_CASES

    cases = len(CORPUS) + len(CASES) + len(MORE_CASES)
    for test in (test_bad_breathing_and_bells, test_bad_finishing_settings):
        cases += len(test.pytestmark[0].args[1])
    assert cases >= 80


def test_limits_can_be_raised_by_whoever_runs_meditate(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - repeat: 1001\n    steps:\n      - pause: 1s\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDITATE_MAX_REPEAT", "2000")
    assert CliRunner().invoke(main, ["validate", "s.yaml"]).exit_code == 0
    monkeypatch.setenv("MEDITATE_MAX_REPEAT", "lots")
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr) == (1, "Error: MEDITATE_MAX_REPEAT=lots is not a whole number\n")


# ---------------------------------------------------------------- the speech engine, contained

def worker_pids(engine):
    return [w.process.pid for w in engine._workers]


def test_a_crash_in_the_speech_engine_costs_one_clip_and_leaves_no_entry():
    import threading

    from meditations.speaking.pool import SpeechEngine, SpeechRequest, clip_cache

    with SpeechEngine(workers=1, timeout=10) as engine:
        engine.start()
        # the worker loads its engine with its first clip: load it now, so the stop below catches a request
        assert engine.synthesize([SpeechRequest("Ready.", "gmw/en-us", 130, 0.9)]) == []
        victim = SpeechRequest("This sentence is spoken while the engine is killed.", "gmw/en-us", 60, 0.9)
        worker = engine._workers[0]
        # A real crash with the request in flight: stop the engine, let the request reach it, then SIGSEGV.
        os.kill(worker.process.pid, signal.SIGSTOP)
        failures = []
        speaking = threading.Thread(target=lambda: failures.extend(engine.synthesize([victim])))
        speaking.start()
        deadline = time.monotonic() + 10
        while worker.job is None and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(worker.process.pid, signal.SIGSEGV)
        os.kill(worker.process.pid, signal.SIGCONT)
        speaking.join(20)
        assert [f.reason for f in failures] == ["the speech engine crashed"]
        assert not clip_cache().path_for(victim.key()).exists()
        after = SpeechRequest("The next clip is fine.", "gmw/en-us", 130, 0.9)
        assert engine.synthesize([after]) == []


def test_an_engine_that_died_between_requests_is_replaced_and_nothing_is_lost():
    from meditations.speaking.pool import SpeechEngine, SpeechRequest

    with SpeechEngine(workers=1, timeout=10) as engine:
        engine.start()
        os.kill(engine._workers[0].process.pid, signal.SIGKILL)
        engine._workers[0].process.join(5)
        assert engine.synthesize([SpeechRequest("Spoken by a fresh engine.", "gmw/en-us", 130, 0.9)]) == []


def test_a_hung_speech_engine_is_stopped_after_its_timeout():
    from meditations.speaking.pool import SpeechEngine, SpeechRequest

    with SpeechEngine(workers=1, timeout=3) as engine:
        engine.start()
        worker = engine._workers[0]
        os.kill(worker.process.pid, signal.SIGSTOP)  # a real hang: the process stops answering
        started = time.monotonic()
        failures = engine.synthesize([SpeechRequest("Never answered.", "gmw/en-us", 130, 0.9)])
        assert [f.reason for f in failures] == ["the speech engine hung for over 3 s"]
        assert time.monotonic() - started < 10
        assert engine.synthesize([SpeechRequest("Answered by a new engine.", "gmw/en-us", 130, 0.9)]) == []


def test_texts_of_any_length_render(tmp_path, monkeypatch):
    sentence = "Let your breath slow down and your shoulders soften, and notice the floor beneath you. "
    (tmp_path / "long.yaml").write_text("title: Long\nsteps:\n  - say: |\n      " + sentence * 200 + "\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "long.yaml", "--json"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count('"kind": "speech"') == 200


# ---------------------------------------------------------------- missing pieces: one line each

def run_cli(args, cwd, env=None, prelude=""):
    code = prelude + f"import sys; sys.argv = ['meditate'] + {args!r}; import cli; cli.main()"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=120)


def test_missing_speech_data_is_one_line(tmp_path):
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say: Hello.\n")
    result = run_cli(["render", "s.yaml"], tmp_path, env={"ESPEAK_DATA_PATH": str(tmp_path / "nothing"),
                                                          "MEDITATE_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the eSpeak NG speech engine could not start (")
    assert lines[0].endswith("; reinstall it with: pip install --force-reinstall espeakng-loader pyttsx3 "
                             "(and check ESPEAK_DATA_PATH)")


def test_missing_encoder_is_one_line(tmp_path):
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say: Hello.\n")
    result = run_cli(["render", "s.yaml"], tmp_path, prelude="import sys; sys.modules['imageio_ffmpeg'] = None; ")
    assert (result.returncode, result.stderr) == (1, "Error: the MP3 encoder is missing; install it with: "
                                                     "pip install imageio-ffmpeg\n")


# ---------------------------------------------------------------- builds: one at a time, and killed at any moment

LIBRARY = {
    "library.yaml": "album: Kill test\nlead_in: 0.5s\nfade_out: 1s\n",
    "one.yaml": "title: One\nsteps:\n  - say: The first track speaks a little. Then it rests.\n  - pause: 20s\n",
    "two.yaml": "title: Two\nsteps:\n  - breathe: {pattern: 4-2-6, cycles: 3, cue: voice}\n  - pause: 15s\n",
    "three.yaml": "title: Three\nbackground: {sound: pink-noise}\nsteps:\n  - say: A bed of sound.\n  - pause: 25s\n",
}


def test_a_second_build_on_the_same_folder_is_refused(tmp_path, monkeypatch):
    import fcntl

    materialize(tmp_path / "scripts", LIBRARY)
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    with open(tmp_path / "out" / ".meditate.lock", "a+") as held:
        held.write("pid 4242")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = CliRunner().invoke(main, ["build", "scripts", "-o", "out"])
    assert (result.exit_code, result.stderr) == (1, "Error: another build is writing to out (pid 4242); wait for it "
                                                    "to finish, then build again\n")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".meditate.lock"]


def valid_track(path, duration):
    """A complete MP3: ffmpeg decodes it without a single complaint, to its full length."""
    import imageio_ffmpeg

    result = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"],
                            capture_output=True, text=True)
    audio = decode(path, 8000)
    return result.stderr == "" and abs(audio.size / 8000 - duration) < 0.2


def check_library(out):
    """Every track is absent or complete; returns the complete ones."""
    import json

    manifest = json.loads((out / "library.json").read_text()) if (out / "library.json").exists() else {"tracks": []}
    listed = {t["file"]: t["duration"] for t in manifest["tracks"]}
    complete = []
    for mp3 in sorted(out.glob("*.mp3")):
        assert mp3.name in listed or not mp3.name.startswith("."), mp3
        if mp3.name in listed:
            assert valid_track(mp3, listed[mp3.name]), mp3
            complete.append(mp3.name)
    return complete


@pytest.mark.parametrize("delay", [0.8, 2.0, 3.2])
def test_a_build_killed_at_any_moment_loses_nothing_and_the_next_one_finishes(tmp_path, delay):
    materialize(tmp_path / "scripts", LIBRARY)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "cli.py"), "build", "scripts", "-o", "out", "-j", "2", "-q"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, start_new_session=True)
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGKILL)  # the build and every worker, mid-flight
    process.wait()
    out = tmp_path / "out"
    if out.exists():
        check_library(out)
    finished = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert check_library(out) == ["one.mp3", "three.mp3", "two.mp3"]
    assert not list(out.glob(".*.tmp"))
    again = subprocess.run(command[:-1], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert again.stdout == "built 0, unchanged 3, failed 0\n"


def test_a_script_with_nothing_to_hear(tmp_path, monkeypatch):
    # found by the property tests: chapters alone made an empty track
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - chapter: Only a title\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr) == (
        1, "s.yaml:3:3: the steps have nothing to hear: add a say, pause, breathe or bell step\n")
