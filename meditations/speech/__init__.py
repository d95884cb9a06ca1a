"""Speech: the clips a script needs, synthesized by the engines of engines/ in worker processes and cached
on disk, then measured and handed to the planner."""
