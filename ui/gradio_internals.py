"""Every use of Gradio internals, in one place, each with the reason no public feature
does. tests/unit/test_gradio_internals.py fails when a Gradio upgrade breaks one (and on
any version other than the one checked, so an upgrade is reviewed here first).

- quiet_idle_queue: the queue's idle polling interval (no public setting).
- mcp_tools_only: which named endpoints the MCP server offers as tools (Gradio offers every
  public one; the only public way out, api_visibility="undocumented", would also take the
  page's endpoints off "Use via API").
- upload_folder: where Gradio saves uploads, to accept an unprocessed upload only from
  there (the image events skip preprocessing on purpose; see ui/controls.uploaded_path).
- pin_upload_folder: that folder named once in GRADIO_TEMP_DIR (Gradio's own setting), since
  Gradio otherwise resolves it again in every component it builds (not a documented cost).
- oauth_user_name / oauth_user_in_scope: the Hugging Face sign-in's user name, read from
  the session Gradio's OAuth routes fill (gr.OAuthProfile is only injected as a handler
  parameter; the gate sees plain HTTP requests).
- password_user_in_scope: the user signed in with Gradio's password login on a plain HTTP
  request (a media file fetch), read the way Gradio's own /user route reads it (its
  access-token cookie looked up in App.tokens); no public API says who sent a request
  outside an event handler.
- lazy_session_state: a session's per-block config copies, which only the deep-link route
  reads, made when it reads them: not all up front, nor again for every input read and
  output updated (no public setting; about 30 ms of the event loop per new session on our
  page, and about a fifth of a fresh page's load event).
- shared_api_info: a component's data-model JSON schema computed once per data model, not
  once per component Gradio rebuilds for an output update (no public setting; pydantic's
  schema of a gallery is a few ms of the event loop per update, most of a fresh page's load).
- label_api_inputs: a gr.api endpoint's input blocks labelled with their parameter names
  (gr.api labels them '1st', '2nd'... and takes no labels), through the dependency's input
  ids and demo.blocks: "Use via API" shows the names, and a raw client that sends the page's
  request (queue/join) finds each value's place by its label.
- skip_queue_analytics: the queue's monitoring summary, rebuilt (a pandas DataFrame of its
  last 10,000 events) after every queued event for a dashboard the studio never enables;
  the environment variables Gradio reads when the queue is made (not documented).
- frontend_code: the folder Gradio serves its built frontend from, and under which path, for
  ui/frontend_assets.py to serve those files compressed once (Gradio compresses them again
  for every request, on the event loop, and sends no cache-control header; no public setting).
- page_without: a column of gr.api's parameter blocks left out of the page's own config
  (gr.api always makes them; the page's script sets up a node for each, shown or not).
- PAGE_VARIES_BY: the request headers Gradio's page (GET /) and /config are built from,
  besides the URL and the signed-in user, for ui/page_cache.py to answer them again (Gradio
  builds both again for every request; no public setting).
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping, MutableMapping
from copy import copy
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.route_utils import BUILD_PATH_LIB
from gradio.state_holder import SessionState, StateHolder
from gradio.utils import get_upload_folder

CHECKED_VERSION = "6.31"  # the Gradio these internals were read from

# route_utils.get_request_origin: the root URL written into the page comes from the request's
# URL (its Host header, scheme, server and root path) unless one of the others is sent.
PAGE_VARIES_BY = (b"host", b"x-forwarded-host", b"x-gradio-server", b"x-forwarded-proto")

IDLE_QUEUE_SLEEP = 0.05  # seconds: the value Gradio itself uses on Windows
IDLE_PROGRESS_SLEEP = 0.2


def quiet_idle_queue(demo: gr.Blocks) -> bool:
    """Let Gradio's queue check for work every 50 ms instead of every 1 ms when idle.

    Gradio 6.31 polls its queue (and its progress updates) in busy little sleeps, which
    costs about 3% of a core on a machine doing nothing; at 50 ms an event starts at most
    50 ms later (jobs take seconds to minutes). These are private attributes: when a
    Gradio upgrade renames them this does nothing and returns False.
    """
    queue = getattr(demo, "_queue", None)
    if queue is None or not hasattr(queue, "sleep_when_free"):
        return False
    queue.sleep_when_free = IDLE_QUEUE_SLEEP
    if hasattr(queue, "progress_update_sleep_when_free"):
        queue.progress_update_sleep_when_free = IDLE_PROGRESS_SLEEP
    return True


# Gradio reads these when demo.queue() makes its queue: queued events between two rebuilds
# of the monitoring summary (never, in practice), and how many events' timings it keeps.
QUEUE_ANALYTICS_ENV = {"GRADIO_ANALYTICS_CACHE_FREQUENCY": str(10**12), "GRADIO_ANALYTICS_MAX_EVENTS": "100"}


def skip_queue_analytics() -> None:
    """Stop Gradio's queue rebuilding its monitoring summary after every queued event (call
    before demo.queue(); a value already in the environment wins).

    Gradio 6.31 turns every recorded event (up to 10,000) into a pandas DataFrame and takes
    percentiles per function after each queued event, on a worker thread holding the GIL:
    about 2 ms an event on a fresh server, growing with the events recorded, for the
    /monitoring dashboard, which launch() leaves off (enable_monitoring) and the studio
    never turns on."""
    for name, value in QUEUE_ANALYTICS_ENV.items():
        os.environ.setdefault(name, value)


def mcp_tools_only(
    api_names: Collection[str],
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """A lifespan for launch's app_kwargs that, as the server starts and before it answers
    anyone, leaves the MCP server only the tools of these endpoints (api names, no slash).

    Gradio 6.31's GradioMCPServer maps tool names to endpoints in `tool_to_endpoint`, which
    its tools/list, tools/call and /schema all read: a tool not in it is unknown to MCP
    (its endpoint still answers the Gradio API). Without that attribute the server would
    offer every endpoint, so this refuses to start instead.
    """
    wanted = {"/" + name.lstrip("/") for name in api_names}

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        blocks = app.get_blocks()
        server = getattr(blocks, "mcp_server_obj", None)
        if server is not None:
            tools = getattr(server, "tool_to_endpoint", None)
            if not isinstance(tools, dict):
                raise RuntimeError(
                    "Gradio's MCP server changed: cannot limit its tools (ui/gradio_internals.py)"
                )
            server.tool_to_endpoint = {tool: ep for tool, ep in tools.items() if ep in wanted}
        yield

    return lifespan


def upload_folder() -> Path:
    """The folder Gradio saves browser uploads in (GRADIO_TEMP_DIR, or the temp dir's gradio/)."""
    return Path(get_upload_folder()).resolve()


def pin_upload_folder() -> None:
    """Name Gradio's upload folder in GRADIO_TEMP_DIR, as Gradio itself finds it, unless the
    deployment names one. Gradio 6.31 otherwise resolves the temp dir's path (a realpath:
    several system calls) in every component it builds, and it builds one again for every
    output update: about a twelfth of a fresh page's load on the event loop."""
    os.environ.setdefault("GRADIO_TEMP_DIR", str(upload_folder()))


def oauth_user_name(request: gr.Request) -> str | None:
    """The signed-in Hugging Face user's name, or None (no OAuth routes, not signed in)."""
    try:
        session = request.session  # only present when Gradio installed its OAuth routes
    except (AttributeError, AssertionError):
        return None
    return _oauth_name(session)


def oauth_user_in_scope(scope: MutableMapping[str, Any]) -> str | None:
    """The same name on a plain ASGI request (Starlette's session middleware fills
    scope["session"] when Gradio installed its OAuth routes), or None."""
    return _oauth_name(scope.get("session"))


def _oauth_name(session: Any) -> str | None:
    info = session.get("oauth_info") if isinstance(session, Mapping) or hasattr(session, "get") else None
    userinfo = (info or {}).get("userinfo") or {}
    name = userinfo.get("preferred_username")
    return str(name) if name else None


def password_user_in_scope(scope: MutableMapping[str, Any], cookies: Mapping[str, str]) -> str | None:
    """The user signed in with Gradio's password login who sent this plain ASGI request,
    or None. Gradio 6's App keeps `tokens` (access token -> user name) and `cookie_id`
    (the suffix of its access-token cookies); a renamed attribute makes this None (nobody
    recognised: the gate then refuses owner-only media, never serves it to a stranger)."""
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not isinstance(tokens, dict) or cookie_id is None:
        return None
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    user = tokens.get(token) if token else None
    return str(user) if user else None


class LazySessionState(SessionState):
    """Gradio's SessionState, whose per-block config copies (`config_values`: what a deep
    link saves, and where an update's new value is noted) are made when the deep link reads
    them (`components`) instead of on every change. Gradio 6.31 makes them all in __init__
    (about 30 ms of the event loop per new visitor or API call on the studio's page), and
    makes a block's again, on the event loop, for every input it reads and every output it
    updates (twice for an update: about a fifth of a fresh page's load event), for a copy
    that only the deep-link route reads."""

    def __init__(self, blocks: gr.Blocks) -> None:  # SessionState.__init__ but config_values
        self.blocks_config = copy(blocks.default_config)
        self.config_values: dict[int, Any] = {}
        self.state_data: dict[int, Any] = {}
        self._state_ttl: dict[int, Any] = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600
        self._lazy_keys = [key for key in self.blocks_config.blocks if key in blocks.blocks]
        # Blocks whose config is to be made again from the block now in place, and the
        # values to note in configs after that (SessionState does both at once).
        self._stale: set[int] = set()
        self._values: dict[int, Any] = {}

    def __setitem__(self, key: int, value: Any) -> None:  # SessionState's, the config made later
        block = self.blocks_config.blocks.get(key)
        if isinstance(block, gr.State):
            self._state_ttl[key] = (block.time_to_live, datetime.datetime.now())
            self.state_data[key] = value
        else:
            self.blocks_config.blocks[key] = value
        if block:
            self._restale(key)

    def _update_config(self, key: int) -> None:
        if self[key] is not None:
            self._restale(key)

    def _update_value_in_config(self, key: int, value: Any) -> None:
        if key not in self.config_values:
            self._stale.add(key)
        self._values[key] = value

    def _restale(self, key: int) -> None:
        self._stale.add(key)
        self._values.pop(key, None)  # a config made again forgets a value noted before

    @property
    def components(self) -> Iterator[dict]:
        made, blocks = self.config_values, self.blocks_config.blocks
        for key in [*self._lazy_keys, *self._stale]:  # what Gradio would have made by now
            if key in blocks and (key in self._stale or key not in made):
                made[key] = self.blocks_config.config_for_block(key, [], blocks[key])
        for key, value in self._values.items():
            if "props" in made.get(key, {}):
                made[key]["props"]["value"] = value
        self._stale.clear()
        self._values.clear()
        # ...and in its order: the page's blocks first, then any added since
        order = {key: made[key] for key in self._lazy_keys if key in made}
        self.config_values = {**order, **{k: v for k, v in made.items() if k not in order}}
        return super().components


class _LazyStateHolder(StateHolder):
    def __getitem__(self, session_id: str) -> SessionState:
        if session_id not in self.session_data:
            self.session_data[session_id] = LazySessionState(self.blocks)
        return super().__getitem__(session_id)


def lazy_session_state(demo: gr.Blocks) -> bool:
    """Make the launched demo's new sessions LazySessionState (call after launch). False,
    changing nothing, when Gradio no longer has the state holder this was written for."""
    holder = getattr(demo, "state_holder", None)
    if type(holder) is not StateHolder or not hasattr(holder, "session_data"):
        return False
    holder.__class__ = _LazyStateHolder
    return True


_SCHEMAS: dict[type, dict[str, Any]] = {}


def shared_api_info() -> bool:  # True: in place
    """Make a component's `api_info` (its data model's JSON schema, built by pydantic)
    once per data model class instead of once per component instance.

    Gradio 6.31 builds an output's component again for every update of it and rebuilds
    that component's config, `api_info` included, on the event loop; the instance caches
    it, but each update is a new instance. The schema depends on the data model class
    alone. A component without the instance cache this fills (a Gradio that renamed it)
    is left to Gradio; the unit test fails then.
    """
    from gradio.components.base import Component

    original = Component.api_info
    if getattr(original, "_studio_shared", False):
        return True

    def api_info(self: Component) -> dict[str, Any]:
        model = self.data_model
        if getattr(self, "_api_info_cache", False) is None and model is not None:
            known = _SCHEMAS.get(model)
            if known is None:
                known = _SCHEMAS[model] = original(self)
            self._api_info_cache = known  # type: ignore[assignment]
        return original(self)

    api_info._studio_shared = True  # type: ignore[attr-defined]
    Component.api_info = api_info  # type: ignore[method-assign]
    return True


def label_api_inputs(dependency: Any, demo: gr.Blocks, names: list[str]) -> bool:
    """Label the input blocks of `dependency` (what gr.api returned) with `names`, in order.
    False, changing nothing, when the dependency no longer lists its inputs' block ids or
    those blocks are not components on `demo` (the unit test fails then)."""
    try:
        blocks = [demo.blocks[block_id] for block_id in dependency["inputs"]]
    except (KeyError, TypeError):
        return False
    components = [block for block in blocks if isinstance(block, gr.components.Component)]
    if len(components) != len(blocks) or len(components) != len(names):
        return False
    for component, name in zip(components, names, strict=True):
        component.label = name
    return True


def page_without(demo: gr.Blocks, holder: gr.Column) -> bool:
    """Leave `holder` (a column of blocks the page never shows: gr.api's parameters) out of
    the page's own config, so the browser builds no node for them; /config, /info and the
    endpoints keep them. False, changing nothing, for a second holder on the same demo. A
    config without the holder in a page's root is left as Gradio builds it (the unit test
    fails when Gradio's config no longer has it there).

    Gradio 6.31's page script builds a node for every block of the page's layout, and looks
    through every event for each node, twice (about 60 ms of an 800 ms first load here for
    gr.api's 82 blocks). The page (GET /) gets config["page"][""]: its blocks and layout,
    which only the page reads; gradio_client and "Use via API" read /config and /info.
    """
    original = demo.get_config_file
    if getattr(original, "_studio_page_without", None) is not None:
        return False  # one holder per demo: a second would silently replace the first

    def without_holder() -> Any:
        config: Any = original()  # read as the JSON it becomes
        pages = config.get("page")
        if not isinstance(pages, dict):
            return config
        left_out = {holder._id, *(block._id for block in holder.children)}
        for page in pages.values():
            layout = page.get("layout") or {}
            if not any(child.get("id") == holder._id for child in layout.get("children", [])):
                continue
            page["layout"] = {**layout, "children": [c for c in layout["children"] if c.get("id") != holder._id]}
            page["components"] = [i for i in page.get("components", []) if i not in left_out]
        return config

    without_holder._studio_page_without = holder._id  # type: ignore[attr-defined]
    demo.get_config_file = without_holder  # type: ignore[method-assign]
    return True


FRONTEND_ROUTE = "/assets/"  # Gradio's route for BUILD_PATH_LIB: app.get("/assets/{path:path}")


def frontend_code() -> tuple[Path, str]:
    """(the folder of Gradio's built frontend code, the path it is served under)."""
    return Path(BUILD_PATH_LIB), FRONTEND_ROUTE
