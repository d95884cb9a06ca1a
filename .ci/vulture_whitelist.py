"""Names that vulture (the dead-code check of `./run.sh lint`) cannot see being used. Reviewed: add a name
here only when something outside our code uses it, and say what. Never executed."""

# click registers the commands through its decorators and calls them itself (cli.py)
render_command, validate_command, plan_command, voices_command, new_command, build_command  # noqa
client_new, client_list, client_build, client_share, client_remove  # noqa

# onnxruntime reads the attributes of its SessionOptions (meditations/engines/piper.py)
_.intra_op_num_threads, _.inter_op_num_threads, _.log_severity_level  # noqa

# Python calls a module's __getattr__ for names it does not hold (meditations/__init__.py: the public calls)
__getattr__  # noqa

# zipfile writes a ZipInfo's system and mode into the archive's headers (meditations/publishing/archive.py)
_.create_system, _.external_attr  # noqa
