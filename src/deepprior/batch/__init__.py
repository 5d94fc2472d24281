"""Batches: which files, where their results go (:mod:`.plan`), how one is fitted anywhere (:mod:`.worker`),
and where they run (:mod:`.backends`: here, ``--jobs N`` processes, or Ray in :mod:`.ray_backend`)."""

from .plan import FORMATS, IMAGE_SUFFIXES, Job, Source, find_inputs, plan
from .worker import JobSpec, Outcome, run_job

__all__ = ["FORMATS", "IMAGE_SUFFIXES", "Job", "JobSpec", "Outcome", "Source", "find_inputs", "plan", "run_job"]
