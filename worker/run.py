"""One edit, end to end, in the worker: ask the gateway, download what it made, keep it."""

import errno
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace

import httpx
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image

from editor.gateways import download_allow_hosts
from editor.model_options import style_for
from editor.models import Edit, SourceImage
from gateway import fetch
from gateway.chat.client import RAW_REPLY_LIMIT
from gateway.chat.reply import describe_image_ref
from gateway.failures import Failure, GatewayFailure
from gateway.fallback import Route, Switch, send_with_fallback
from gateway.fetch import FetchedImage, FetchError, fetch_image
from gateway.options import RequestOptions
from gateway.transport import ImageRequest, Outcome, ParsedReply, Picture
from imaging import shape_with_still, thumbnail_of
from imaging.masks import mask_as_sent
from providers.routing import record_call, routes_for

from .connections import release_connection
from .phases import PicturePhase
from .renditions import (
    BACKGROUND,
    store_displays,
    store_results,
    write_cleaned,
    write_displays,
)
from .watch import EditWatch

logger = logging.getLogger(__name__)

STAGE_OF_REPLY = {
    "queued": Edit.Stage.QUEUED,
    "generating": Edit.Stage.GENERATING,
    "done": Edit.Stage.DOWNLOADING,
}


def perform_edit(edit: Edit) -> None:
    """Run a started edit to its end: succeeded, or failed with a reason a person understands.

    A generation the gateway finished is paid for: its links are kept on the edit before any
    download, so a failed download is retried without asking the gateway again.
    """
    client = httpx.Client(trust_env=False, verify=fetch.TLS_VERIFY)
    # The edit's turn at picture work (worker/phases.py): its sources' first, given back
    # once they are done, even as the gateway works; then its results'.
    with client, EditWatch(edit, client) as watch, PicturePhase() as phase:
        links = edit.result_links
        kept_links = bool(links)
        if not kept_links:
            reply = _generate(edit, client, watch, phase)
            if reply is None:
                return
            links = reply.images
            edit.keep_result_links(links)
        edit.report_progress(Edit.Stage.DOWNLOADING, edit.progress)
        with phase:
            fetched = _download(edit, links, drop_links_on_failure=kept_links)
            if fetched is not None and not watch.canceled:
                results = store_results(edit, fetched)
                # After the edit succeeded, so that its card shows the results without waiting
                # for these (until they are there, the card's "display" is the full picture).
                store_displays(edit, results)


def _generate(
    edit: Edit, client: httpx.Client, watch: "EditWatch", phase: PicturePhase
) -> ParsedReply | None:
    """Ask the gateway; the reply with its images, or None when the edit ended otherwise."""
    # No sources: a picture made from the words alone, through the same path (no stills, no
    # cleaning, no pictures in the request).
    pictures: list[Picture] = []
    sources = list(edit.sources.all())
    mask: bytes | None = None
    # The stills the display renditions are made of, while the gateway works: decoded once.
    stills: list[tuple[SourceImage, Image.Image]] = []
    for source in sources:
        try:
            with source.file.open("rb") as original:
                payload, content_type, still = shape_with_still(
                    original, settings.GAITU_SEND_MAX_SIDE
                )
            if source.mask and not pictures:
                # Painted on the picture at its own size; sent at the size it is sent at.
                with source.mask.open("rb") as painted:
                    mask = mask_as_sent(painted, still.size)
        except (OSError, SyntaxError, ValueError) as exc:
            # Damage inside a JPEG shows only when it is decoded, here: the request checked
            # no more than its end.
            edit.fail("unreadable_picture", str(exc))
            return None
        if not source.thumbnail:  # shown on the card while the gateway works
            source.thumbnail.save("thumb.webp", ContentFile(thumbnail_of(still)))
        if not source.display:
            stills.append((source, still))
        del still
        # Held in a file while the gateway works, not in memory: 256 edits waiting on a slow
        # gateway would hold a megabyte each (the chat transport sends it from the file).
        pictures.append(Picture.held(payload, content_type))
        del payload
    request = ImageRequest(
        edit.model,
        edit.instruction,
        pictures,
        RequestOptions.from_json(edit.options),
        style_for(edit.model),
        mask,
    )
    del pictures, mask
    # Asking the gateway does not need the originals' metadata gone, nor their display
    # renditions: both are written while it works, rather than before, and kept after.
    cleaned: list[tuple[SourceImage, str]] = []
    displays: list[tuple[SourceImage, str, int]] = []
    # At a lower priority (worker/renditions.py BACKGROUND): the shaping of the next edits,
    # and the answers of those whose gateway is done, go first.
    cleaning = BACKGROUND.submit(write_cleaned, sources, cleaned)
    rendering = BACKGROUND.submit(write_displays, stills, displays)
    for work in (cleaning, rendering):  # once both are done, so is the sources' picture work
        work.add_done_callback(lambda _work: _release_when_done(phase, cleaning, rendering))
    try:
        if request.style.n == "parallel" and request.options.n > 1:
            reply = _ask_side_by_side(edit, request, watch)
        else:
            reply = _ask(edit, request, client, watch)
    finally:
        for picture in request.pictures:
            picture.close()
        wait((cleaning, rendering))
    del stills
    for source, name, size in displays:  # before keep_cleaned, which counts them in its size
        source.keep_display(name, size)
    for source, name in cleaned:  # those written, even if a later one failed
        source.keep_cleaned(name)
    try:
        rendering.result()
    except OSError:
        # Without it the card shows the full picture; the edit itself is not harmed.
        logger.warning("edit %s: display rendition not written", edit.pk, exc_info=True)
    try:
        cleaning.result()
    except (OSError, ValueError) as exc:
        # The disk is full, or the picture decoded but its file is not whole after all
        # (InvalidImage): either way the original stays as it was uploaded, for Retry.
        full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
        edit.fail("storage_full" if full else "unreadable_picture", str(exc))
        return None
    return reply


def _release_when_done(phase: PicturePhase, *works: Future) -> None:
    if all(work.done() for work in works):
        phase.release()  # once, whichever callback comes last: release() is idempotent


def _ask(
    edit: Edit, request: ImageRequest, client: httpx.Client, watch: "EditWatch"
) -> ParsedReply | None:
    def on_progress(reply: ParsedReply) -> None:
        edit.report_progress(STAGE_OF_REPLY.get(reply.stage or "", edit.stage), reply.progress)
        release_connection()

    def on_retry(attempt: int, max_attempts: int, problem: Failure, delay: float) -> None:
        edit.report_retry(attempt)
        release_connection()

    def on_switch(switch: Switch) -> None:
        watch.stop_if_canceled()  # a canceled request fails too, and goes nowhere else
        edit.record_switch(switch.left, switch.to, switch.after)
        release_connection()

    def on_call(route: Route, seconds: float, problem: Failure | None) -> None:
        if not watch.canceled:  # a request the person ended says nothing of the provider
            record_call(route, edit.model, seconds, problem)

    release_connection()
    try:
        route, outcome = send_with_fallback(
            routes_for(edit.model),
            request,
            on_progress=on_progress,
            on_retry=on_retry,
            on_switch=on_switch,
            on_call=on_call,
            client=client,
            sleep=watch.sleep,
        )
    except (GatewayFailure, httpx.HTTPError, RuntimeError) as exc:
        if watch.canceled:
            return None  # the user canceled: closing the connection is what ended the request
        if not isinstance(exc, GatewayFailure):
            raise
        Edit.objects.filter(pk=edit.pk).update(raw_reply=exc.raw_text)
        edit.fail(exc.failure.code, exc.failure.detail, exc.failure.reason)
        return None
    edit.record_provider(route.name, route.config.transport)
    Edit.objects.filter(pk=edit.pk).update(raw_reply=outcome.raw_text, usage=outcome.usage)
    reply = outcome.reply
    if watch.canceled:
        return None
    if reply.failure:
        edit.fail(reply.failure.code, reply.failure.detail, reply.failure.reason)
        return None
    return reply


# Seconds between looks at what requests sent side by side have said (as a stream's progress
# is looked at: gateway/chat/client.py PROGRESS_INTERVAL).
SIDE_BY_SIDE_REPORT_EVERY = 0.4
STAGE_ORDER = ("queued", "generating", "done")


def _ask_side_by_side(edit: Edit, request: ImageRequest, watch: "EditWatch") -> ParsedReply | None:
    """Several pictures from a model that makes one a request: as many requests at once, each
    asking for one, each on a client of its own that a cancel closes (EditWatch).

    The links come back in the order the requests were made, and the usage summed. When some
    requests failed and others gave pictures, the pictures are kept and the failures noted in
    raw_reply; when none gave any, the edit fails as the first request did. Only this thread
    writes to the database: the requests' threads just tell what they hear.
    """
    count = request.options.n
    one_picture = replace(request, options=replace(request.options, n=1))
    routes = routes_for(edit.model)
    heard = _Heard(count)

    def on_switch(switch: Switch) -> None:
        watch.stop_if_canceled()
        heard.switched(switch)

    def ask(index: int) -> Outcome:
        with watch.open_client() as client:
            route, outcome = send_with_fallback(
                routes,
                one_picture,
                on_progress=lambda reply: heard.progress(index, reply),
                on_retry=lambda attempt, *_: heard.retry(index, attempt),
                on_switch=on_switch,
                on_call=heard.called,
                client=client,
                sleep=watch.sleep,
            )
            heard.served_by(route)
            return outcome

    with ThreadPoolExecutor(count, thread_name_prefix=f"ask-{edit.pk}") as requests:
        asked = [requests.submit(ask, index) for index in range(count)]
        pending: set[Future[Outcome]] = set(asked)
        while pending:
            pending = wait(pending, timeout=SIDE_BY_SIDE_REPORT_EVERY).not_done
            if not watch.canceled:
                heard.report(edit)
    if not watch.canceled:
        heard.report(edit)
        heard.record_calls(edit.model)
    answers: list[Outcome | GatewayFailure] = []
    for future in asked:
        try:
            answers.append(future.result())
        except (GatewayFailure, httpx.HTTPError, RuntimeError) as exc:
            if watch.canceled:
                return None  # the user canceled: closing the connections ended the requests
            if not isinstance(exc, GatewayFailure):
                raise
            answers.append(exc)
    if watch.canceled:
        return None
    return _merged(edit, answers)


def _merged(edit: Edit, answers: "list[Outcome | GatewayFailure]") -> ParsedReply | None:
    """One reply of the answers to requests sent side by side; None when the edit failed."""
    images: list[str] = []
    failures: list[Failure] = []
    records: list[str] = []
    usage: dict = {}
    for number, answer in enumerate(answers, 1):
        heading = f"--- request {number} of {len(answers)} ---"
        if isinstance(answer, GatewayFailure):
            failures.append(answer.failure)
            records.append(f"{heading}\n{answer.raw_text}\n[failed: {_said(answer.failure)}]")
            continue
        usage = _summed(usage, answer.usage)
        records.append(f"{heading}\n{answer.raw_text}")
        if answer.reply.images:
            images += answer.reply.images
        elif answer.reply.failure:
            failures.append(answer.reply.failure)
            records[-1] += f"\n[failed: {_said(answer.reply.failure)}]"
    if images and failures:
        records.append(f"[{len(failures)} of {len(answers)} requests failed; kept the others]")
    raw_reply = "\n\n".join(records)[:RAW_REPLY_LIMIT]
    Edit.objects.filter(pk=edit.pk).update(raw_reply=raw_reply, usage=usage)
    if not images:
        first = failures[0] if failures else Failure("refused")
        edit.fail(first.code, first.detail, first.reason)
        return None
    return ParsedReply(images, stage="done", progress=100, failure=None)


def _said(problem: Failure) -> str:
    return f"{problem.code}: {problem.detail}" if problem.detail else problem.code


def _summed(total: dict, more: dict) -> dict:
    """Usage of two requests as one: numbers added, nested counts too, anything else the first's."""
    summed = dict(total)
    for key, value in more.items():
        before = summed.get(key)
        if isinstance(value, bool) or key not in summed:
            summed.setdefault(key, value)
        elif isinstance(value, int | float) and isinstance(before, int | float):
            summed[key] = before + value
        elif isinstance(value, dict) and isinstance(before, dict):
            summed[key] = _summed(before, value)
    return summed


class _Heard:
    """What the requests sent side by side have said lately, told by their threads and
    reported from the edit's: the highest percent of them all, the stage of the one furthest
    behind, and the highest attempt any of them is on."""

    def __init__(self, count: int):
        self._lock = threading.Lock()
        self._replies: list[ParsedReply | None] = [None] * count
        self._attempt = 0
        self._reported_attempt = 0
        self._switches: list[Switch] = []
        self._reported_switches = 0
        self._calls: list[tuple[Route, float, Failure | None]] = []
        self._served_by: Route | None = None

    def switched(self, switch: Switch) -> None:
        with self._lock:
            if switch not in self._switches:  # the same move by several requests, said once
                self._switches.append(switch)

    def called(self, route: Route, seconds: float, problem: Failure | None) -> None:
        with self._lock:
            self._calls.append((route, seconds, problem))

    def served_by(self, route: Route) -> None:
        with self._lock:
            self._served_by = self._served_by or route

    def record_calls(self, model: str) -> None:
        """Each provider call, for its health: written from the edit's thread at the end."""
        with self._lock:
            calls, self._calls = self._calls, []
        for route, seconds, problem in calls:
            record_call(route, model, seconds, problem)

    def progress(self, index: int, reply: ParsedReply) -> None:
        with self._lock:
            self._replies[index] = reply

    def retry(self, index: int, attempt: int) -> None:
        with self._lock:
            self._replies[index] = None  # its next try starts afresh
            self._attempt = max(self._attempt, attempt)

    def report(self, edit: Edit) -> None:
        with self._lock:
            replies = [reply for reply in self._replies if reply is not None]
            attempt = self._attempt
            switches = self._switches[self._reported_switches :]
            self._reported_switches = len(self._switches)
            served_by, self._served_by = self._served_by, None
        for switch in switches:
            edit.record_switch(switch.left, switch.to, switch.after)
        if served_by is not None:
            edit.record_provider(served_by.name, served_by.config.transport)
        if attempt > self._reported_attempt:
            self._reported_attempt = attempt
            edit.report_retry(attempt)
        if not replies:
            return
        percents = [reply.progress for reply in replies if reply.progress is not None]
        stages = [reply.stage for reply in replies if reply.stage in STAGE_ORDER]
        stage = min(stages, key=STAGE_ORDER.index) if stages else ""
        edit.report_progress(STAGE_OF_REPLY.get(stage, edit.stage), max(percents, default=None))


def _download(
    edit: Edit, links: list[str], *, drop_links_on_failure: bool
) -> list[tuple[str, FetchedImage]] | None:
    """The results, downloaded; None when the edit failed instead.

    A link refused by a rule (link_blocked: a private address, an ftp: link…) is skipped when
    other links give pictures, and fails the edit only when no link does. A link whose download
    went wrong fails it at once: Retry may bring that picture yet.
    """
    allow_hosts = download_allow_hosts([route.config for route in routes_for(edit.model)])
    fetched = []
    refused: list[tuple[str, FetchError]] = []
    for ref in links:
        try:
            image = fetch_image(
                ref, allow_hosts=allow_hosts, max_bytes=settings.GAITU_RESULT_MAX_MB * 2**20
            )
        except FetchError as exc:
            if exc.code == "link_blocked":
                refused.append((ref, exc))
                continue
            logger.warning("edit %s: result %s: %s", edit.pk, describe_image_ref(ref), exc.reason)
            _fail_download(edit, Failure(exc.code, exc.reason), drop_links_on_failure)
            return None
        fetched.append((ref, image))
    for ref, refusal in refused:
        outcome = "skipped" if fetched else "refused"
        logger.warning(
            "edit %s: result %s %s: %s", edit.pk, describe_image_ref(ref), outcome, refusal.reason
        )
    if not fetched and refused:
        _fail_download(edit, _refused_links(refused), drop_links_on_failure)
        return None
    return fetched


def _refused_links(refused: list[tuple[str, FetchError]], shown: int = 5) -> Failure:
    """link_blocked, with the links and what refused each; the reason is the rule when they
    all broke the same one (the sentence then says which), else the code's own sentence."""
    rules = {exc.refusal for _ref, exc in refused}
    lines = [f"{_shown_link(ref)} ({exc.reason})" for ref, exc in refused[:shown]]
    if len(refused) > shown:
        lines.append(f"… and {len(refused) - shown} more")
    return Failure("link_blocked", "\n".join(lines), rules.pop() if len(rules) == 1 else "")


def _shown_link(ref: str, limit: int = 300) -> str:
    shown = describe_image_ref(ref)  # a data URI as its type and size
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _fail_download(edit: Edit, problem: Failure, drop_links: bool) -> None:
    if drop_links:
        # These links failed twice now; the next Retry asks the gateway afresh.
        edit.keep_result_links([])
    edit.fail(problem.code, problem.detail, problem.reason)
