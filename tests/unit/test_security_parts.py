"""The security parts on their own: trusted proxies, key scrubbing, the journal choice,
the login throttle, signed visitor ids, owner-only media links, upload caps, and the one
private Gradio hook the gate uses."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from jobs.db_journal import choose_journal, mount_of
from jobs.settings import Settings
from providers.base import Secret
from providers.scrub import Scrubber
from ui import visitor_id
from ui.client_address import client_address
from ui.login_throttle import LoginThrottle
from ui.media_links import ANYONE, MediaLinks, is_media_name
from ui.upload_limits import UploadLimits

# --- client addresses ---------------------------------------------------------------------


def test_forwarded_for_counts_only_from_a_trusted_proxy() -> None:
    # No proxy trusted: whatever the client writes is ignored.
    assert client_address("203.0.113.9", ["1.2.3.4"], ()) == "203.0.113.9"
    assert client_address("127.0.0.1", ["1.2.3.4"], ()) == "127.0.0.1"
    # A peer that is not a trusted proxy: its header is ignored too.
    assert client_address("203.0.113.9", ["1.2.3.4"], ("10.0.0.0/8",)) == "203.0.113.9"
    # A trusted proxy: the right-most address that is not a proxy; forged entries to its left lose.
    trusted = ("10.0.0.0/8",)
    assert client_address("10.1.2.3", ["6.6.6.6, 198.51.100.7"], trusted) == "198.51.100.7"
    assert client_address("10.1.2.3", ["6.6.6.6, 198.51.100.7, 10.9.9.9"], trusted) == "198.51.100.7"
    assert client_address("10.1.2.3", ["6.6.6.6", "198.51.100.7"], trusted) == "198.51.100.7"  # two headers
    # A single address or a CIDR, IPv6, ports.
    assert client_address("::1", ["[2001:db8::5]:443"], ("::1",)) == "2001:db8::5"
    assert client_address("192.168.1.1", ["198.51.100.7:5000"], ("192.168.1.1",)) == "198.51.100.7"
    # Garbage in the chain: nothing to its left is believed; the proxy itself is the key.
    assert client_address("10.1.2.3", ["198.51.100.7, not-an-ip"], trusted) == "10.1.2.3"


def test_settings_read_trusted_proxies_with_a_spaces_default() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    space = Settings.from_env({"SPACE_ID": "me/studio"}).trusted_proxies
    assert "10.0.0.0/8" in space
    assert Settings.from_env({"SPACE_ID": "x", "STUDIO_TRUSTED_PROXIES": "10.0.0.7"}).trusted_proxies == (
        "10.0.0.7",
    )
    with pytest.raises(ValueError, match="STUDIO_TRUSTED_PROXIES: 'nope'"):
        Settings.from_env({"STUDIO_TRUSTED_PROXIES": "10.0.0.1, nope"})


# --- scrubbing ----------------------------------------------------------------------------

KEY_A = "sk-canary-0123456789abcdef"
KEY_B = "ws_live_Zz9-8y7_x6w5v4u3"


@pytest.mark.parametrize(
    "form",
    [
        lambda k: k,
        lambda k: f"Bearer {k}",
        lambda k: f"Key {k}",
        lambda k: quote(k, safe=""),
        lambda k: base64.b64encode(k.encode()).decode(),
        lambda k: base64.urlsafe_b64encode(k.encode()).decode().rstrip("="),
        lambda k: base64.b64encode(f"Authorization: Bearer {k}".encode()).decode(),
        lambda k: base64.b64encode(f"x{k}".encode()).decode(),
        lambda k: base64.b64encode(f"xy{k}".encode()).decode(),
    ],
)
def test_every_key_is_scrubbed_in_every_form(form: object) -> None:
    scrubber = Scrubber([Secret(KEY_A), None])
    scrubber.add(Secret(KEY_B))  # a session key, added later
    for key in (KEY_A, KEY_B):
        text = f"provider said: bad token {form(key)} (request 42)"  # type: ignore[operator]
        out = scrubber.scrub(text)
        assert key not in out and form(key) not in out, out  # type: ignore[operator]
        assert out.startswith("provider said: bad token") and out.endswith("(request 42)")


def test_scrubbing_leaves_ordinary_text_alone() -> None:
    scrubber = Scrubber([Secret("abc"), Secret(KEY_A)])  # a 3-character "key" would mask words
    assert scrubber.scrub("abc def: the key was rejected") == "abc def: the key was rejected"


# --- the journal --------------------------------------------------------------------------

MOUNTS = """\
overlay / overlay rw,relatime 0 0
proc /proc proc rw 0 0
/dev/sda1 /srv ext4 rw 0 0
server:/export /srv/nfs nfs4 rw 0 0
hf-bucket /data fuse.hf-mount rw 0 0
//nas/share /mnt/my\\040share cifs rw 0 0
data /mnt/9 9p rw 0 0
"""


@pytest.mark.parametrize(
    ("folder", "journal"),
    [
        ("/srv/studio", "wal"),
        ("/srv/nfs/studio", "delete"),
        ("/srv/nfsx", "wal"),  # a sibling whose name starts the same is not inside the mount
        ("/data", "delete"),
        ("/data/studio", "delete"),
        ("/mnt/my share/studio", "delete"),
        ("/mnt/9", "delete"),
        ("/home/user/data", "wal"),
    ],
)
def test_the_journal_follows_the_data_folders_mount(folder: str, journal: str) -> None:
    choice = choose_journal(Path(folder), "auto", MOUNTS)
    assert choice.journal == journal, choice
    assert mount_of(Path(folder), MOUNTS) is not None


def test_the_journal_setting_overrides_the_detection() -> None:
    assert choose_journal(Path("/data"), "wal", MOUNTS).journal == "wal"
    assert choose_journal(Path("/srv"), "delete", MOUNTS).journal == "delete"
    assert Settings.from_env({"STUDIO_DB_JOURNAL": "DELETE"}).db_journal == "delete"
    with pytest.raises(ValueError, match="STUDIO_DB_JOURNAL='memory'"):
        Settings.from_env({"STUDIO_DB_JOURNAL": "memory"})


# --- the login throttle ---------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_wrong_passwords_lock_the_name_and_the_address_for_a_growing_time() -> None:
    clock = Clock()
    throttle = LoginThrottle(free_failures=5, first_lock=2, max_lock=60, clock=clock)
    for _ in range(4):
        throttle.failed("alice", "203.0.113.9")
    assert throttle.wait_seconds("alice", "203.0.113.9") == 0
    throttle.failed("alice", "203.0.113.9")
    assert throttle.wait_seconds("alice", "198.51.100.1") == 2  # the name, from anywhere
    assert throttle.wait_seconds("bob", "203.0.113.9") == 2  # the address, for any name
    assert throttle.wait_seconds("bob", "198.51.100.1") == 0
    clock.now += 2.1
    throttle.failed("alice", "198.51.100.1")
    assert throttle.wait_seconds("alice", None) == 4  # doubled
    for _ in range(20):
        clock.now += 100
        throttle.failed("alice", None)
    assert throttle.wait_seconds("alice", None) == 60  # capped
    clock.now += 61
    throttle.succeeded("alice", None)
    throttle.failed("alice", None)
    assert throttle.wait_seconds("alice", None) == 0  # a right password clears the record


# --- visitor ids and media links --------------------------------------------------------


def test_a_studio_reads_its_secret_once_and_keeps_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    secret = visitor_id.studio_secret(data)  # created on first use, like server_secret
    assert secret == (data / visitor_id.SECRET_FILE).read_bytes().strip()
    (data / visitor_id.SECRET_FILE).unlink()  # not read again: every signed link stays valid
    assert visitor_id.studio_secret(data) == secret
    assert not (data / visitor_id.SECRET_FILE).exists()
    assert visitor_id.studio_secret(tmp_path / "other") != secret


def test_visitor_ids_are_signed_and_the_secret_is_private(tmp_path: Path) -> None:
    secret = visitor_id.server_secret(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / visitor_id.SECRET_FILE).st_mode) == 0o600
    token = visitor_id.issue(secret)
    visitor = visitor_id.verify(secret, token)
    assert visitor and token.startswith(visitor)
    assert visitor_id.verify(secret, visitor) is None  # the bare id, unsigned
    assert visitor_id.verify(secret, visitor + ".forged-signature-xxxx") is None
    assert visitor_id.verify(b"another server's secret" * 2, token) is None
    other = visitor_id.issue(secret).split(".")[0]
    assert visitor_id.verify(secret, f"{other}.{token.split('.')[1]}") is None  # a signature moved
    cookies = visitor_id.parse_cookie_header(f"a=1; {visitor_id.COOKIE_LAX}={token}")
    assert visitor_id.from_cookies(secret, cookies) == visitor
    assert all("HttpOnly" in value for value in visitor_id.set_cookie_headers(token))


class SignedIn:
    """A studio with two signed-in users (alice, bob) on a fake clock: its data folder, the
    folder its media links are served from, and its links."""

    def __init__(self, tmp_path: Path) -> None:
        self.clock = Clock()
        self.data, self.served = tmp_path / "data", tmp_path / "served"
        self.settings = Settings(data_dir=self.data, auth=(("alice", "a"), ("bob", "b")))
        self.links = MediaLinks(self.settings, root=self.served, clock=self.clock)

    def file(self, relative: str, content: bytes) -> Path:
        """A file of the studio's own (e.g. "videos/abc.mp4") under its data folder."""
        path = self.data / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path


@pytest.fixture
def studio(tmp_path: Path) -> SignedIn:
    return SignedIn(tmp_path)


def test_media_links_are_issued_per_viewer_for_an_hour(studio: SignedIn) -> None:
    clock, links = studio.clock, studio.links
    video = studio.file("videos/abc.mp4", b"mp4")
    served = links.page_file("alice", video, "dreamina_sim_x_seed1.mp4")
    assert served and Path(served).read_bytes() == b"mp4" and is_media_name(Path(served).name)
    assert links.allows("alice", "dreamina_sim_x_seed1.mp4")
    assert not links.allows("bob", "dreamina_sim_x_seed1.mp4")
    assert not links.allows(None, "dreamina_sim_x_seed1.mp4")
    url = links.api_url("http://h", "alice", str(video))
    assert url and url.startswith("http://h/studio-media/") and url.endswith("/videos/abc.mp4")
    token, relative = url.split("/studio-media/")[1].split("/", 1)
    assert links.api_file(token, relative, "alice") == video
    assert links.api_file(token, relative, "bob") is None
    assert links.api_file(token, "videos/other.mp4", "alice") is None
    clock.now += 3601
    assert not links.allows("alice", "dreamina_sim_x_seed1.mp4")
    assert links.api_file(token, relative, "alice") is None
    # A local studio has one owner and a plain request names nobody: a bearer link.
    local = MediaLinks(Settings(data_dir=studio.data), root=studio.served, clock=clock)
    local.issue("local", "dreamina_a.mp4")
    assert local.allows(None, "dreamina_a.mp4") and local.allows(ANYONE, "dreamina_a.mp4")


def test_a_file_shown_again_to_the_same_viewer_reuses_its_link(studio: SignedIn) -> None:
    clock, links = studio.clock, studio.links
    video = studio.file("videos/abc.mp4", b"mp4")
    first = links.page_file("alice", video, "dreamina_sim_x_seed1.mp4")
    clock.now += 1800
    again = links.page_file("alice", video, "dreamina_sim_x_seed1.mp4")
    assert first and again == first
    assert len(list(studio.served.iterdir())) == 1  # one folder, not one per render
    clock.now += 1800  # an hour after the first render, half an hour after the second
    assert links.allows("alice", "dreamina_sim_x_seed1.mp4")  # showing it again renewed it
    bobs = links.page_file("bob", video, "dreamina_sim_x_seed1.mp4")
    assert bobs and bobs != first  # another viewer: a link of their own
    clock.now += 3601  # expired for alice: a fresh link, not the dead one
    renewed = links.page_file("alice", video, "dreamina_sim_x_seed1.mp4")
    assert renewed and renewed != first and Path(renewed).read_bytes() == b"mp4"
    shutil.rmtree(Path(renewed).parent)  # swept from disk while still issued: made again
    remade = links.page_file("alice", video, "dreamina_sim_x_seed1.mp4")
    assert remade and Path(remade).read_bytes() == b"mp4"


def test_a_reused_start_image_counts_only_as_its_owners_upload(studio: SignedIn) -> None:
    clock, links = studio.clock, studio.links
    image = studio.file("inputs/start.png", b"png")
    served = links.page_file("alice", image, "dreamina-input_job1.png")
    assert served
    assert links.linked_source("alice", served) == image.resolve()
    assert links.linked_source("bob", served) is None  # another user holding the path
    stray = studio.served / "0123456789abcdef" / "dreamina-input_job2.png"
    stray.parent.mkdir(parents=True)
    stray.symlink_to(image)
    assert links.linked_source("alice", str(stray)) is None  # never issued
    assert links.linked_source("alice", str(image)) is None  # not a link at all
    clock.now += 3601
    assert links.linked_source("alice", served) is None  # expired


def test_an_app_with_short_links_never_sweeps_another_apps_links(tmp_path: Path) -> None:
    (tmp_path / "one" / "videos").mkdir(parents=True)
    video = tmp_path / "one" / "videos" / "v.mp4"
    video.write_bytes(b"mp4")
    hourly = MediaLinks(Settings(data_dir=tmp_path / "one"))
    brief = MediaLinks(Settings(data_dir=tmp_path / "two", media_link_seconds=6))
    kept = hourly.page_file("local", video, "dreamina_kept.mp4")
    assert kept
    an_hour_link_two_minutes_old = time.time() - 120  # older than the brief app's 2 x 6 s
    os.utime(Path(kept).parent, (an_hour_link_two_minutes_old, an_hour_link_two_minutes_old))
    brief.issue("local", "dreamina_other.mp4")  # its first issue prunes its own old links
    assert Path(kept).is_file()


def test_upload_caps_count_in_flight_and_per_hour() -> None:
    clock = Clock()
    limits = UploadLimits(in_flight=2, per_hour=3, clock=clock)
    assert limits.start("a") is None and limits.start("a") is None
    assert "at most 2 uploads at once" in (limits.start("a") or "")
    assert limits.start("b") is None  # another visitor
    limits.finish("a")
    assert limits.start("a") is None
    limits.finish("a")
    limits.finish("a")
    assert "3 uploads per hour" in (limits.start("a") or "")
    clock.now += 3601
    assert limits.start("a") is None
