"""Errors of the render bridge. Each one says what is wrong and how to fix it."""

from __future__ import annotations

from movieminter.errors import MovieMinterError


class RenderError(MovieMinterError):
    """Base class for everything the render bridge raises."""


class A1111Unreachable(RenderError):
    def __init__(self, url: str, reason: str = ""):
        super().__init__(
            f"cannot reach A1111 at {url}" + (f" ({reason})" if reason else ""),
            hint=f"is A1111 running at {url}? start it with --api (and --deforum-api to render)",
            url=url,
        )


class A1111Timeout(A1111Unreachable):
    def __init__(self, url: str, what: str, seconds: float | None):
        RenderError.__init__(
            self,
            f"A1111 at {url} did not answer {what} within {seconds or '?'} s",
            hint="A1111 may be busy (loading a model, or another job); wait and try again",
            url=url,
        )


class ApiDisabled(RenderError):
    def __init__(self, url: str):
        super().__init__(
            f"A1111 at {url} answers, but its API (/sdapi/v1) is off",
            hint="start A1111 with --api (add it to COMMANDLINE_ARGS in webui-user.sh/.bat)",
            url=url,
        )


class DeforumApiDisabled(RenderError):
    def __init__(self, url: str):
        super().__init__(
            f"A1111 at {url} has no Deforum API (/deforum_api)",
            hint="install the Deforum extension and start A1111 with --api --deforum-api",
            url=url,
        )


class AuthRequired(RenderError):
    def __init__(self, url: str, had_auth: bool):
        msg = (
            f"A1111 at {url} rejected the credentials"
            if had_auth
            else f"A1111 at {url} requires a user name and password for its API"
        )
        super().__init__(msg, hint="set --a1111-auth user:pass exactly as in A1111's --api-auth", url=url)


class A1111HttpError(RenderError):
    """A1111 answered with an error we have no better explanation for."""

    def __init__(self, method: str, url: str, status: int, body: str):
        super().__init__(
            f"A1111 answered {status} to {method} {url}: {body[:300]}",
            hint="see A1111's console for the traceback",
            status=status,
        )
        self.status = status


class JobNotFound(RenderError):
    def __init__(self, job_id: str):
        super().__init__(
            f"Deforum does not know job {job_id} (A1111 was probably restarted)",
            hint="render the segment again; finished frames are reused",
            job_id=job_id,
        )


class UnknownBatch(RenderError):
    def __init__(self, batch_id: str):
        # Deforum answers 500 (a KeyError), not 404, for a batch it does not know.
        super().__init__(
            f"Deforum does not know batch {batch_id} (A1111 was probably restarted)",
            hint="render the segment again; finished frames are reused",
            batch_id=batch_id,
        )


class RenderFailed(RenderError):
    """Deforum reported the job FAILED. Not retried on our own: real Deforum
    reports every render error (an Interrupt included) as RETRYABLE."""


class RenderCancelled(RenderError):
    def __init__(self, message: str = "the render was cancelled"):
        super().__init__(message, hint="start the render again when you are ready (Deforum's job was cancelled)")


class RenderInterrupted(RenderError):
    """Interrupted in A1111 between frames: Deforum leaves such a job ACCEPTED in
    POST_PROCESSING for ever, so it is recognised by its silence."""

    def __init__(self, done: int, total: int, job_id: str):
        super().__init__(
            f"the render was interrupted in A1111 after {done} of {total} frames (A1111's Interrupt button, or "
            f"another program called /sdapi/v1/interrupt); Deforum never finishes an interrupted job ({job_id})",
            hint="click Render & Mint again to render the segment anew",
            job_id=job_id,
        )


class RenderStalled(RenderError):
    """Nothing moved in Deforum for longer than the stall limit."""


class FramesError(RenderError):
    """The frames Deforum produced are missing, unreadable or the wrong size."""


class ModelError(RenderError):
    """A model the segment needs is missing, mismatched or refused."""


class DownloadError(RenderError):
    """A model download failed or did not match its sha256."""


class DeforumBusy(RenderError):
    def __init__(self, job_ids: list[str]):
        super().__init__(
            f"a Deforum job is running ({', '.join(job_ids)}); txt2img now would corrupt it",
            hint="wait for the render to finish (Deforum jobs ignore A1111's queue lock)",
            job_ids=job_ids,
        )
