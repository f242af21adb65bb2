"""证书新办 on a customer's phone (390 px, zh-CN) against pytest-django's live server, on Friday
2026-11-20 10:00 (Shanghai): going back from 经办人 (the browser's back, then the page's own
上一步) and on again edits the one draft (it made a second one until 12-06), and photos as a
phone's camera makes them (over 5 MB) are made smaller on the page and accepted, on the
documents step and on the handler's phone (they were refused), a portrait photo turned by its
EXIF stays upright, a photo within the server's limits goes as chosen, and a photo cut short,
or damaged and closed, is refused in Chinese. Every page passes
phone_checks.js; full-page screenshots are saved under tmp_path (printed) to be looked at."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from PIL import Image, ImageOps
from playwright.sync_api import Browser, Page, expect

from certhall.accounts.models import Handler, Organization, Role, User
from certhall.hall import identity, storage
from certhall.hall.models import Application, Document
from tests.browser.conftest import ORG_NAME, USCC, refused
from tests.browser.test_phones import CHECKS, FRIDAY, PHONE_VIEWPORT, phone_problems, session
from tests.hall.conftest import HANDLER_ID, PHONE, online_draft
from tests.support.images import png

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]


@pytest.fixture
def world(audit_flushable: None) -> Iterator[dict[str, Any]]:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise
    with time_machine.travel(FRIDAY):
        organization = Organization.objects.create(
            name=ORG_NAME, uscc=USCC, legal_representative="王五"
        )
        applicant = User.objects.create(
            username=f"wizard-{uuid.uuid4().hex[:6]}",
            role=Role.APPLICANT,
            organization=organization,
        )
        handler = Handler.objects.create(
            organization=organization,
            name="李四",
            id_kind=Handler.IdKind.RESIDENT_ID,
            id_number=HANDLER_ID,
            phone=PHONE,
        )
        yield {"organization": organization, "applicant": applicant, "handler": handler}


class Shots:
    """Full-page screenshots under ``folder`` and what phone_checks.js finds on each page."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.problems = folder, {}  # type: dict[str, Any]
        print(f"screenshots in {folder}")

    def __call__(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
        if wrong := phone_problems(page.evaluate(CHECKS), PHONE_VIEWPORT["width"]):
            self.problems[name] = wrong

    def passed(self) -> None:
        assert not self.problems, json.dumps(self.problems, ensure_ascii=False, indent=1)


def drafts(organization: Organization) -> list[Application]:
    return list(Application.objects.filter(organization=organization).order_by("pk"))


def test_going_back_from_the_second_step_edits_the_one_draft(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    url, organization = live_server.url, world["organization"]
    shot = Shots(tmp_path)
    with time_machine.travel(FRIDAY):
        page = session(browser, url, PHONE_VIEWPORT, world["applicant"])
        page.goto(f"{url}/hall/new/")
        page.select_option("#years", "2")
        page.fill("#person_name", "王五")
        page.fill("#person_id_number", "11010519491231002X")
        shot(page, "01-new")
        page.click("#next-button")
        page.wait_for_url("**/handler/")
        (draft,) = drafts(organization)
        base = f"{url}/hall/applications/{draft.number}"
        shot(page, "02-handler")
        # the browser's back: the first step again, with what was chosen (the draft's own
        # 证书信息, or the page the browser kept: its form posts to the same draft)
        page.go_back()
        page.wait_for_load_state()
        expect(page.locator("#years")).to_have_value("2")
        expect(page.locator("#person_name")).to_have_value("王五")
        shot(page, "03-back")
        page.select_option("#years", "3")
        page.click("#next-button")
        page.wait_for_url(f"{base}/handler/")
        assert drafts(organization) == [draft]
        assert draft.items.get().years == 3
        # the page's own way back: 上一步 beside 下一步
        page.click("#back-to-details")
        page.wait_for_url(f"{base}/details/")
        expect(page.locator("#years")).to_have_value("3")
        expect(page.locator("#step-now")).to_contain_text("第 1 步（共 8 步）：证书信息")
        shot(page, "04-details")
        page.select_option("#years", "1")
        page.click("#next-button")
        page.wait_for_url(f"{base}/handler/")
        # and the steps' bar: its first step links the draft's 证书信息
        page.click('ol.steps a[aria-label="证书信息"]')
        page.wait_for_url(f"{base}/details/")
        page.click("#next-button")
        page.wait_for_url(f"{base}/handler/")
        page.click("#pick-button")
        page.wait_for_url(f"{base}/delivery/")
        # 我的申请: one application, the last term chosen
        page.goto(f"{url}/hall/applications/")
        shot(page, "05-list")
    assert drafts(organization) == [draft]
    line = draft.items.get()
    assert (line.years, str(line.fee)) == (1, "150.00")
    shot.passed()


def camera_jpeg(path: Path) -> Path:
    """A JPEG as a phone's camera makes one: 3000 x 2250 px of noise (no camera's photo
    compresses worse), over 6 MB."""
    noise = Image.frombytes("RGB", (3000, 2250), os.urandom(3000 * 2250 * 3))
    noise.save(path, "JPEG", quality=92)
    assert path.stat().st_size > 6 * 1024 * 1024 > storage.MAX_BYTES
    return path


def stored_image(document: Document) -> Image.Image:
    return Image.open(io.BytesIO(storage.path_of(document.sha256).read_bytes()))


def test_a_phones_photo_over_the_limit_is_made_smaller_and_accepted(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    url, applicant = live_server.url, world["applicant"]
    shot = Shots(tmp_path)
    photo = camera_jpeg(tmp_path / "IMG_20261120_100000.jpg")
    with time_machine.travel(FRIDAY):
        draft = online_draft(applicant, world["handler"], identity_check=False)
        check = identity.start(applicant, draft.number)
        # 上传资料: the licence photographed instead of scanned
        page = session(browser, url, PHONE_VIEWPORT, applicant)
        page.goto(f"{url}/hall/applications/{draft.number}/documents/")
        row = page.locator('#documents tr[data-kind="licence_copy"]')
        row.locator("input[type=file]").set_input_files(str(photo))
        expect(row.locator(".file-pick-note")).to_contain_text("照片已压缩：")
        expect(row.locator(".file-pick-name")).to_have_text(photo.name)
        shot(page, "01-documents-chosen")
        row.locator("button[type=submit]").click()
        expect(page.locator("#form-error")).to_have_count(0)
        expect(page.locator(".messages")).to_contain_text("已上传：")
        shot(page, "02-documents-uploaded")
        # the handler's phone: both sides of the ID card from the camera
        phone = session(browser, url, PHONE_VIEWPORT, None)
        phone.goto(f"{url}/hall/identity/m/{check.token}/")
        for side in ("front", "back"):
            form = phone.locator(f"#upload-{side}")
            form.locator("input[type=file]").set_input_files(str(photo))
            form.locator("button[type=submit]").click()  # sent once the photo is ready
            phone.wait_for_url(f"{url}/hall/identity/m/{check.token}/")
            expect(phone.locator("#form-error")).to_have_count(0)
            expect(phone.locator(f"#upload-{side} .doc-status")).to_have_text("已上传")
        expect(phone.locator("#begin-liveness")).to_be_visible()
        shot(phone, "03-phone-photos")
    for kind in ("licence_copy", "handler_id_front", "handler_id_back"):
        document = draft.documents.get(kind=kind, superseded=False)
        assert document.size <= storage.MAX_BYTES, (kind, document.size)
        image = stored_image(document)
        assert image.format == "JPEG" and max(image.size) == 2000, (kind, image.size)
        assert document.filename == photo.name
    shot.passed()


def test_a_photo_chosen_again_while_the_first_is_made_smaller_is_the_one_sent(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """The customer chooses a photo, at once another one, and taps 上传: the form waits for the
    second photo to be made smaller. Before, the first one's end (it is quicker: 2400 px)
    cleared the input's busy mark (and the second one's 正在压缩 note) while the second (a
    9000 x 9000 px PNG) was still being drawn, and the form went with that PNG as chosen."""
    url, applicant = live_server.url, world["applicant"]
    first, second = tmp_path / "IMG_1.jpg", tmp_path / "scan-9000px.png"
    Image.new("RGB", (2400, 1800), "white").save(first, "JPEG")
    Image.new("L", (9000, 9000), 255).save(second, "PNG")
    with time_machine.travel(FRIDAY):
        draft = online_draft(applicant, world["handler"], identity_check=False)
        page = session(browser, url, PHONE_VIEWPORT, applicant)
        page.goto(f"{url}/hall/applications/{draft.number}/documents/")
        row = page.locator('#documents tr[data-kind="licence_copy"]')
        row.locator("input[type=file]").set_input_files(str(first))
        row.locator("input[type=file]").set_input_files(str(second))
        row.locator("button[type=submit]").click()  # sent once the second photo is ready
        expect(page.locator(".messages")).to_contain_text("已上传：")
        expect(page.locator("#form-error")).to_have_count(0)
    document = draft.documents.get(kind="licence_copy", superseded=False)
    image = stored_image(document)
    assert (document.filename, image.format, image.size) == (
        "scan-9000px.jpg",
        "JPEG",
        (2000, 2000),
    )


def portrait_photo_turned_by_exif(path: Path) -> Path:
    """A portrait phone photo as the camera stores it: the sensor's 4000 x 3000 px landscape
    pixels and EXIF Orientation 6 (turn 90 degrees clockwise to show), over the 5 MB (a
    camera's noise over its colours), so the page draws it again. Shown, it is 3000 x 4000 px:
    red above (its top left quarter green: a mirror shows too), blue below."""
    shown = Image.new("RGB", (3000, 4000), (0, 0, 255))
    shown.paste((255, 0, 0), (0, 0, 3000, 2000))
    shown.paste((0, 255, 0), (0, 0, 1500, 1000))
    noise = Image.frombytes("RGB", shown.size, os.urandom(3000 * 4000 * 3))
    shown = Image.blend(shown, noise, 0.3)
    stored = shown.rotate(90, expand=True)  # the sensor's landscape (counter-clockwise)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    stored.save(path, "JPEG", quality=92, exif=exif.tobytes())
    assert path.stat().st_size > storage.MAX_BYTES
    with Image.open(path) as check:  # what a viewer shows: the portrait above
        assert check.size == (4000, 3000)
        assert ImageOps.exif_transpose(check).size == (3000, 4000)
    return path


def colour_at(image: Image.Image, x: float, y: float) -> str:
    """The colour nearest the pixel at (x, y), as fractions of the width and height."""
    r, g, b = image.convert("RGB").getpixel((int(x * image.width), int(y * image.height)))
    return max((r, "red"), (g, "green"), (b, "blue"))[1]


def test_a_portrait_photo_made_smaller_keeps_its_orientation(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """Drawn again, a photo loses its EXIF, the Orientation tag with it: the page draws it as
    shown (createImageBitmap's imageOrientation "from-image"), so what is stored is upright
    without the tag. Checked 12-06 in Debian's headless Chromium: upright (nothing to fix)."""
    url, applicant = live_server.url, world["applicant"]
    photo = portrait_photo_turned_by_exif(tmp_path / "IMG_20261120_100001.jpg")
    with time_machine.travel(FRIDAY):
        draft = online_draft(applicant, world["handler"], identity_check=False)
        page = session(browser, url, PHONE_VIEWPORT, applicant)
        page.goto(f"{url}/hall/applications/{draft.number}/documents/")
        row = page.locator('#documents tr[data-kind="licence_copy"]')
        row.locator("input[type=file]").set_input_files(str(photo))
        expect(row.locator(".file-pick-note")).to_contain_text("照片已压缩：")
        row.locator("button[type=submit]").click()
        expect(page.locator(".messages")).to_contain_text("已上传：")
    image = stored_image(draft.documents.get(kind="licence_copy", superseded=False))
    image.save(tmp_path / "stored.png")
    print(f"stored photo in {tmp_path / 'stored.png'}")
    assert image.getexif().get(0x0112) is None  # the tag is gone: the pixels must be upright
    assert image.size == (1500, 2000)
    places = ((0.2, 0.1), (0.8, 0.1), (0.5, 0.4), (0.5, 0.8))
    assert [colour_at(image, x, y) for x, y in places] == ["green", "red", "red", "blue"]


@pytest.mark.allow_page_error(
    refused("/hall/identity/m/", 400), why="a broken photo is uploaded on purpose: refused 400"
)
def test_a_broken_photo_is_refused_in_chinese_on_the_phone(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """A photo cut short in its header: the page cannot draw it and sends it as it is; the
    server cannot read its size and says so beside the form, at 390 px; nothing is stored."""
    url = live_server.url
    shot = Shots(tmp_path)
    broken = tmp_path / "IMG_20261120_100002.png"
    broken.write_bytes(png()[:30])  # inside IHDR
    refused_front_photo(
        world,
        url,
        browser,
        shot,
        broken,
        "01-phone-broken-photo",
        "图片文件已损坏或不完整，读不出它的尺寸，请重新拍照或导出后再上传。",
    )
    shot.passed()


def refused_front_photo(
    world: dict[str, Any],
    url: str,
    browser: Browser,
    shot: Shots,
    photo: Path,
    name: str,
    words: str,
) -> Application:
    """The handler's phone sends ``photo`` as the ID card's front for a new draft on FRIDAY at
    390 px; the page says ``words`` beside the form and nothing is stored. The draft."""
    applicant = world["applicant"]
    with time_machine.travel(FRIDAY):
        draft = online_draft(applicant, world["handler"], identity_check=False)
        check = identity.start(applicant, draft.number)
        phone = session(browser, url, PHONE_VIEWPORT, None)
        phone.goto(f"{url}/hall/identity/m/{check.token}/")
        form = phone.locator("#upload-front")
        form.locator("input[type=file]").set_input_files(str(photo))
        form.locator("button[type=submit]").click()
        expect(phone.locator("#form-error")).to_contain_text(words)
        shot(phone, name)
    check.refresh_from_db()
    assert check.front_sha256 == ""
    return draft


@pytest.mark.allow_page_error(
    refused("/hall/identity/m/", 400),
    why="a photo cut short is sent on purpose: the phone's page answers it 400 (文件不完整)",
)
def test_a_photo_cut_short_after_its_header_is_refused_on_the_phone(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """A camera's photo cut short on a bad connection (its header whole, 60% of its scan):
    the page does not make it smaller and send it as a whole photo; the server says it is
    incomplete beside the form, at 390 px; nothing is stored (12-07)."""
    url = live_server.url
    shot = Shots(tmp_path)
    photo = camera_jpeg(tmp_path / "whole.jpg")
    cut = tmp_path / "IMG_20261120_100003.jpg"
    cut.write_bytes(photo.read_bytes()[: photo.stat().st_size * 6 // 10])
    draft = refused_front_photo(
        world,
        url,
        browser,
        shot,
        cut,
        "01-phone-cut-photo",
        "文件不完整（上传中断或文件已损坏），请重新拍照或扫描后上传。",
    )
    assert not draft.documents.filter(kind="handler_id_front").exists()
    shot.passed()


def test_a_photo_over_the_limit_cut_short_is_not_sent_and_the_page_says_why(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """A camera's photo over 5 MiB cut short (85% of it: still over the limit): Chromium cannot
    decode it, so the page cannot make it smaller. It went as chosen and the server refused it
    as too big (12-07), which sent the customer to shrink a photo that was broken. Now the page
    says it cannot be read, at 390 px, undoes the choice and sends nothing, on the handler's
    phone and on the documents step."""
    url, applicant = live_server.url, world["applicant"]
    shot = Shots(tmp_path)
    photo = camera_jpeg(tmp_path / "whole.jpg").read_bytes()
    cut = tmp_path / "IMG_20261120_100006.jpg"
    cut.write_bytes(photo[: len(photo) * 85 // 100])
    assert cut.stat().st_size > storage.MAX_BYTES
    size = f"{cut.stat().st_size / 1048576:.1f} MB"
    words = f"这张照片（{size}）读不出来，可能不完整或已损坏"
    with time_machine.travel(FRIDAY):
        draft = online_draft(applicant, world["handler"], identity_check=False)
        check = identity.start(applicant, draft.number)
        documents = set(draft.documents.values_list("pk", flat=True))
        phone = session(browser, url, PHONE_VIEWPORT, None)
        phone.goto(f"{url}/hall/identity/m/{check.token}/")
        form = phone.locator("#upload-front")
        form.locator("input[type=file]").set_input_files(str(cut))
        # not 上传 at once: under load the decode failed before the tap, which then sent the
        # emptied form (CI, 12-07, night); a tap while it is looked at wants a test of its own
        expect(form.locator(".file-pick-note")).to_contain_text(words)
        expect(form.locator(".file-pick-name")).to_have_text("未选择文件")
        expect(phone.locator("#form-error")).to_have_count(0)
        shot(phone, "01-phone-cut-over-the-limit")
        page = session(browser, url, PHONE_VIEWPORT, applicant)
        page.goto(f"{url}/hall/applications/{draft.number}/documents/")
        row = page.locator('#documents tr[data-kind="licence_copy"]')
        row.locator("input[type=file]").set_input_files(str(cut))
        expect(row.locator(".file-pick-note")).to_contain_text(words)
        expect(row.locator(".file-pick-name")).to_have_text("未选择文件")
        shot(page, "02-documents-cut-over-the-limit")
    check.refresh_from_db()
    assert check.front_sha256 == ""
    assert set(draft.documents.values_list("pk", flat=True)) == documents
    shot.passed()


#: In one task, as a hand is quicker than the decoder: the photo chosen, then 上传 tapped.
CHOOSE_AND_TAP = """([data, name]) => {
  const form = document.getElementById("upload-front");
  const input = form.querySelector("input[type=file]");
  const list = new DataTransfer();
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  list.items.add(new File([bytes], name, { type: "image/jpeg" }));
  input.files = list.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
  const looking = input.hasAttribute("data-shrinking");
  form.querySelector("button[type=submit]").click();
  return [looking, form.hasAttribute("data-send-after")];
}"""


def test_a_tap_while_a_cut_short_photo_is_looked_at_sends_nothing(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """上传 tapped while the page is still decoding a photo over 5 MiB cut short: the form waits
    for the photo, and when it cannot be read the page says why, undoes the choice and sends
    nothing (not the emptied form: what a slow decode did on CI, 12-07, night)."""
    url, applicant = live_server.url, world["applicant"]
    shot = Shots(tmp_path)
    photo = camera_jpeg(tmp_path / "whole.jpg").read_bytes()
    cut = photo[: len(photo) * 85 // 100]
    assert len(cut) > storage.MAX_BYTES
    with time_machine.travel(FRIDAY):
        draft = online_draft(applicant, world["handler"], identity_check=False)
        check = identity.start(applicant, draft.number)
        phone = session(browser, url, PHONE_VIEWPORT, None)
        page_url = f"{url}/hall/identity/m/{check.token}/"
        phone.goto(page_url)
        sent: list[str] = []
        phone.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
        data = base64.b64encode(cut).decode()
        waiting = phone.evaluate(CHOOSE_AND_TAP, [data, "IMG_20261120_100007.jpg"])
        assert waiting == [True, True]  # being looked at, and the tap waits for it
        form = phone.locator("#upload-front")
        expect(form.locator(".file-pick-note")).to_contain_text("读不出来，可能不完整或已损坏")
        expect(form.locator(".file-pick-name")).to_have_text("未选择文件")
        assert form.evaluate("f => f.hasAttribute('data-send-after')") is False
        shot(phone, "01-phone-tapped-while-looked-at")
    assert phone.url == page_url and sent == []
    check.refresh_from_db()
    assert check.front_sha256 == ""
    shot.passed()


def gradient_jpeg(path: Path) -> Path:
    """A photo of 3000 x 2250 px under the 5 MB (a smooth one: a phone's of a plain wall)."""
    gradient = Image.radial_gradient("L").resize((3000, 2250)).convert("RGB")
    gradient.save(path, "JPEG", quality=90)
    assert path.stat().st_size < storage.MAX_BYTES
    return path


def test_a_photo_within_the_limits_goes_as_chosen(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """Over 2000 px but within the server's bytes and pixels: the page does not draw it again
    (it did until 12-07, at 2000 px), so the server checks the very file the customer chose."""
    url, applicant = live_server.url, world["applicant"]
    photo = gradient_jpeg(tmp_path / "IMG_20261120_100004.jpg")
    with time_machine.travel(FRIDAY):
        draft = online_draft(applicant, world["handler"], identity_check=False)
        page = session(browser, url, PHONE_VIEWPORT, applicant)
        page.goto(f"{url}/hall/applications/{draft.number}/documents/")
        row = page.locator('#documents tr[data-kind="licence_copy"]')
        chooser = row.locator("input[type=file]")
        chooser.set_input_files(str(photo))
        expect(chooser).not_to_have_attribute("data-shrinking", re.compile(".*"))  # looked at
        expect(row.locator(".file-pick-note")).to_be_hidden()  # no 照片已压缩
        row.locator("button[type=submit]").click()
        expect(page.locator(".messages")).to_contain_text("已上传：")
    document = draft.documents.get(kind="licence_copy", superseded=False)
    assert document.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert stored_image(document).size == (3000, 2250)


@pytest.mark.allow_page_error(
    refused("/hall/identity/m/", 400),
    why="a damaged photo is sent on purpose: the phone's page answers it 400 (图片文件已损坏)",
)
def test_a_damaged_photo_over_2000_px_is_refused_on_the_phone(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """A photo of 3000 px cut at 60% and closed with an end of image (a broken program's
    copy): Chromium shows it grey below the cut, and the page made a clean 2000 px JPEG of
    that, which the server accepted (until 12-07). Now it goes as chosen and the server's
    decoder refuses it, beside the form at 390 px; nothing is stored."""
    url = live_server.url
    shot = Shots(tmp_path)
    whole = gradient_jpeg(tmp_path / "whole.jpg").read_bytes()
    damaged = tmp_path / "IMG_20261120_100005.jpg"
    damaged.write_bytes(whole[: len(whole) * 6 // 10] + b"\xff\xd9")
    draft = refused_front_photo(
        world,
        url,
        browser,
        shot,
        damaged,
        "01-phone-damaged-photo",
        "图片文件已损坏，图像内容无法显示，请重新拍照或导出后再上传。",
    )
    assert not draft.documents.filter(kind="handler_id_front").exists()
    shot.passed()
