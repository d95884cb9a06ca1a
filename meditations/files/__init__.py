"""Files and processes: checked reads, containment in the output folder, temporary files that name their
owner, on-disk caches, and the signals that stop a run. Imports only the model."""
