"""The studio's own sentences stored on a job (its note, its error), each under a code.

`say(code, **params)` gives the English sentence as `providers.base.Words`: the English text
(what the API, MCP and exports read) carrying its code and parameters. The job store keeps
both (`note` and `note_code`/`note_params`, `error_message` and `error_code`/`error_params`;
jobs/recorder.py), and a page says the code in its own words (ui/stored_text.py:
`job.<code>`), so changing an English template here never breaks another language. A
provider's own words have no code and are shown as sent. Rows stored before codes were
read back once, by their English, when the store was migrated (jobs/legacy_words.py).
"""

from __future__ import annotations

from providers.base import Words

TEMPLATES: dict[str, str] = {
    # notes, while a job is active
    "waiting_to_send": "Waiting to send to {provider}…",
    "key_wait": (
        "Waiting for a {provider} key to check this job: enter it in the API keys tab and press 'Check again'."
    ),
    "not_configured": "Provider {provider} is not configured; the job is kept.",
    "failing": (
        "{provider} is failing to answer ({what}); the studio keeps asking. The job is not lost "
        "and will not be sent again."
    ),
    "still_sending": "This job is still being sent; cancel it again in a moment.",
    "cannot_cancel.none.billed": (
        "Not cancelled: {provider} has no way to cancel a job once it is sent (no cancel was sent); "
        "it will run to the end and be billed. It will still be saved to your history."
    ),
    "cannot_cancel.queued.billed": (
        "Not cancelled: {provider} cancels only jobs still waiting in its queue, and this one has started; "
        "it will run to the end and be billed. It will still be saved to your history."
    ),
    "cannot_cancel.running.billed": (
        "Not cancelled: {provider} says this job can no longer be cancelled; "
        "it will run to the end and be billed. It will still be saved to your history."
    ),
    "cannot_cancel.none.free": (
        "Not cancelled: {provider} has no way to cancel a job once it is sent (no cancel was sent); "
        "it will run to the end (free: the simulator bills nothing). It will still be saved to your history."
    ),
    "cannot_cancel.queued.free": (
        "Not cancelled: {provider} cancels only jobs still waiting in its queue, and this one has started; "
        "it will run to the end (free: the simulator bills nothing). It will still be saved to your history."
    ),
    "cannot_cancel.running.free": (
        "Not cancelled: {provider} says this job can no longer be cancelled; "
        "it will run to the end (free: the simulator bills nothing). It will still be saved to your history."
    ),
    # errors of an ended job
    "cancelled_unsent": "Cancelled while waiting to be sent; nothing was sent or billed.",
    "cancelled_queued": "Cancelled before it started; the provider does not bill a cancelled job.",
    "cancelled_at_provider": "Cancelled at the provider.",
    "stopped_sending": "The studio stopped while this job was being sent.",
    # jobs/history.py: a finished job's files removed by the storage cap (its row stays)
    "storage_cap": "removed to stay under the storage cap",
    # the studio's own details inside a classified error (ProviderError: detail, then the
    # next step of its kind); providers/ writes these codes itself (Words), with this English
    "timed_out": "Still unfinished after {minutes} minutes.",
    "unreadable_answers": "The studio could not read the provider's answers.",
    "no_video": "The provider could not make this video.",
    "no_key": "No {provider} API key: set {env} or enter a key in the API keys tab.",
    # providers/errors.failed_job_error: the provider's label, then its own words
    "made_nothing_said": "{provider} could not make this video: {words}.",
    "made_nothing": "{provider} could not make this video.",
    "image_unfetched_said": "{provider} could not download the input image: {words}.",
    "image_unfetched": "{provider} could not download the input image.",
    "filtered_said": "{provider}'s content filter stopped the job: {words}.",
    "filtered": "{provider}'s content filter stopped the job.",
}


def say(code: str, /, **params: object) -> Words:
    """The English sentence `code` with `params` filled in, carrying both."""
    return Words(TEMPLATES[code].format(**params), code, {k: v for k, v in params.items()})
