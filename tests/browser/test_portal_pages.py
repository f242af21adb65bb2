"""The public portal in Debian's Chromium against a served ``certhall setup --demo`` instance:
the guide, the notice list and its filter, search in either script, asking as a visitor and
answering/publishing as staff (a question with a direction override refused beside the
form, kept as typed); at 390 and 1366 px without horizontal overflow (screenshots
in tmp_path); a script or ``onerror`` in a notice body or a question never runs; axe-core
finds no serious or critical accessibility violation on the main public pages."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import axe_source, axe_violations
from tests.browser.conftest import chromium, new_page, refused, sizes, wait_for
from tests.support import archives, bad_archives, images
from tests.support.network import free_port, subprocess_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (390, 1366)


@dataclass
class Portal:
    url: str
    clerk_password: str


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    import os

    home = tmp_path_factory.mktemp("portal-instance")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = subprocess_env(
        CERTHALL_HOME=str(home),
        CERTHALL_BASE_URL=url,
        DJANGO_SETTINGS_MODULE="certhall.settings",
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    )
    env.pop("SOFTHSM2_CONF", None)
    setup = subprocess.run(
        [sys.executable, "-m", "certhall.cli.main", "setup", "--demo"],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    password = re.search(r"demo-clerk\s+\S+\s+(\S+)", setup.stdout)
    assert password, setup.stdout
    server = subprocess.Popen(
        [sys.executable, "-m", "certhall.cli.main", "serve", "--port", str(port),
         "--workers", "1", "--no-jobs"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(f"{url}/healthz", server, "certhall serve")
        yield Portal(url, password.group(1))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _no_overflow(page: Page, shots: Path, name: str) -> None:
    width = page.evaluate("window.innerWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=shots / f"{name}-{width}.png", full_page=True)
    assert scroll <= width, f"{name} at {width} px scrolls sideways ({scroll} px)"


@pytest.mark.parametrize("width", sizes(*WIDTHS))
def test_guide_notices_filter_and_search(
    portal: Portal, browser: Browser, width: int, tmp_path: Path
) -> None:
    page = new_page(browser, width)
    page.goto(f"{portal.url}/")
    _no_overflow(page, tmp_path, "1-home")
    page.click("#portal a[href='/guide/new/']")
    expect(page.locator("h1")).to_have_text("新办办事指南")
    expect(page.locator("#personal .fee")).to_have_text(
        "机构个人证书(法人证书):150元/个/年(可办理1-5年期)"
    )
    expect(page.locator("a[href='/hall/new/']")).to_be_visible()
    expect(page.locator("#payee")).to_contain_text("154 739 697 600 74")
    _no_overflow(page, tmp_path, "2-guide-new")
    page.goto(f"{portal.url}/guide/")
    _no_overflow(page, tmp_path, "3-guide")

    page.goto(f"{portal.url}/notices/")
    expect(page.locator("#notice-list li").first).to_contain_text("費用返還公告")
    _no_overflow(page, tmp_path, "4-notices")
    page.select_option("select[name=region]", "guangzhou")
    page.select_option("select[name=year]", "2024")
    page.click("form.filters button")
    expect(page.locator("#notice-list li")).to_have_count(1)
    expect(page.locator("#notice-list li")).to_contain_text("20241001批次")
    page.goto(f"{portal.url}/notices/?page=1")
    page.click("#notice-list a >> nth=0")
    expect(page.locator("#notice-body")).to_contain_text("申請條件")
    _no_overflow(page, tmp_path, "5-notice")

    page.fill("#portal-q", "费用返还")  # Simplified finds the Traditional notice
    page.click("form.portal-search button")
    # the programme open today first (费用返还 at /refunds/ is searched since 12-07), newest
    expect(page.locator("#search-results li").first).to_contain_text("演示项目")
    notice = page.locator("#search-results li", has_text="費用返還公告")
    expect(notice.locator("mark").first).to_have_text("費用返還")
    _no_overflow(page, tmp_path, "6-search")
    page.fill("#portal-q", "週末")  # Traditional finds the Simplified FAQ and guide
    page.click("form.portal-search button")
    expect(page.locator("#search-results")).to_contain_text("周末可以办理证书吗")
    # 12-07: CRL, 收费 and a slip (Ukye) found nothing or the Jiangmen dental-fee notices
    page.fill("#portal-q", "CRL")
    page.click("form.portal-search button")
    first = page.locator("#search-results li").first
    expect(first).to_contain_text("证书验证服务")
    expect(first.locator("mark").first).to_have_text("CRL")
    _no_overflow(page, tmp_path, "6-search-crl")
    first.locator("a").click()
    expect(page.locator("#ca-card")).to_be_in_viewport()
    page.fill("#portal-q", "收费")
    page.click("form.portal-search button")
    expect(page.locator("#search-also")).to_contain_text("“收费标准”")
    expect(page.locator("#search-results li").first.locator("a")).to_have_text("办事指南")
    _no_overflow(page, tmp_path, "6-search-fees")
    page.fill("#portal-q", "Ukye")
    page.click("form.portal-search button")
    expect(page.locator("#search-near")).to_contain_text("相近的“ukey”")
    expect(page.locator("#search-results li").first.locator("mark").first).to_have_text("Ukey")
    _no_overflow(page, tmp_path, "6-search-near")
    for path in ("/faq/", "/usage/", "/downloads/", "/questions/"):
        page.goto(f"{portal.url}{path}")
        _no_overflow(page, tmp_path, "7" + path.strip("/"))
    page.context.close()


def _login(page: Page, portal: Portal) -> None:
    page.goto(f"{portal.url}/accounts/login/?next=/console/portal/")
    page.fill("#username", "demo-clerk")
    page.fill("#password", portal.clerk_password)
    page.click("#password-form button[type=submit]")
    page.wait_for_url(f"{portal.url}/console/portal/")


@pytest.mark.allow_page_error(refused("/questions/", 400), why="a question asked too soon")
@pytest.mark.allow_page_error(
    refused("/x", 404), why='the hostile notice keeps its <img src="x">, without its onerror'
)
def test_ask_answer_publish_and_nothing_runs(
    portal: Portal, browser: Browser, tmp_path: Path
) -> None:
    dialogs: list[str] = []
    visitor = new_page(browser, 390)
    visitor.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    visitor.goto(f"{portal.url}/questions/")
    # a direction override (a phone number read backwards by staff): refused beside the form
    reversed_phone = "请回电话1380\u202e0138000"
    visitor.fill("#text", reversed_phone)
    visitor.wait_for_timeout(3500)
    visitor.click("#ask-form button[type=submit]")
    expect(visitor.locator("#ask-error")).to_have_text(
        "问题的第9个字符（U+202E）是文字方向控制符，不能使用，请删除后重新输入。"
    )
    expect(visitor.locator("#text")).to_have_value(reversed_phone)  # kept as typed
    _no_overflow(visitor, tmp_path, "8-refused")
    question = 'Ukey插上没反应怎么办？<img src=x onerror="window.__pwned=1">'
    visitor.fill("#text", question)
    visitor.wait_for_timeout(3500)  # the signed form time: no answer within 3 seconds
    visitor.click("#ask-form button[type=submit]")
    expect(visitor.locator("#asked")).to_contain_text("您的问题已提交")
    answer_link = visitor.locator("#answer-link").get_attribute("href")
    _no_overflow(visitor, tmp_path, "8-asked")

    staff = new_page(browser, 1366)
    staff.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _login(staff, portal)
    staff.click("#open-questions a >> text=Ukey插上没反应怎么办")
    expect(staff.locator("#question-text")).to_have_text(question)  # shown as text
    staff.fill("#answer", "请确认已安装并启动证书助手，再重新插入Ukey。")
    staff.click("#send-answer")
    assert answer_link and answer_link.startswith(f"{portal.url}/questions/answer/?number=ZX")
    code = answer_link.partition("#code=")[2]
    sent: list[tuple[str, str]] = []
    visitor.on("request", lambda r: sent.append((r.url, r.post_data or "")))
    visitor.goto(answer_link)  # the asker reads it before it is published
    expect(visitor.locator("#question-state")).to_have_text("已答复")
    # the code went in the form's body alone: in no address a server or proxy logs
    assert code and any(f"code={code}" in body for _, body in sent)
    assert not any(code in url for url, _ in sent) and "#code" not in visitor.url
    expect(visitor.locator("#my-answer")).to_contain_text("请确认已安装并启动证书助手")
    expect(visitor.locator("#my-question-text")).to_have_text(question)  # shown as text
    _no_overflow(visitor, tmp_path, "8-answer")
    staff.click("#publish-faq")
    expect(staff.locator(".flash.flash-success")).to_contain_text("已公开到常见问题")
    _no_overflow(staff, tmp_path, "9-staff-question")

    # a notice whose body tries to run code, published through the editor
    staff.goto(f"{portal.url}/console/portal/notices/new/")
    staff.fill("#title", "浏览器安全测试公告")
    staff.fill("#published_on", "2026-11-20")
    staff.fill(
        "#body_html",
        "<p>正文</p><script>window.__pwned=2;alert(2)</script>"
        '<img src="x" onerror="window.__pwned=3;alert(3)"><a href="javascript:alert(4)">链接</a>'
        '<svg onload="alert(5)"></svg><p style="background:url(javascript:alert(6))">样式</p>',
    )
    staff.click("#save")
    staff.click("#publish")
    expect(staff.locator(".flash.flash-success")).to_contain_text("已发布")

    visitor.goto(f"{portal.url}/notices/")
    visitor.click("#notice-list a >> text=浏览器安全测试公告")
    expect(visitor.locator("#notice-body")).to_contain_text("正文")
    visitor.click("#notice-body a")  # the javascript: link has lost its href
    visitor.goto(f"{portal.url}/faq/")
    expect(visitor.locator("body")).to_contain_text("请确认已安装并启动证书助手")
    visitor.fill("#portal-q", "Ukey插上")
    visitor.click("form.portal-search button")
    expect(visitor.locator("#search-results li").first).to_contain_text("Ukey插上没反应")
    for page in (visitor, staff):
        assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    visitor.context.close()
    staff.context.close()


@pytest.mark.allow_page_error(
    refused("/console/portal/downloads/upload/", 400), why="a manual cut short, refused"
)
def test_a_manual_cut_short_is_refused_beside_the_form_on_a_phone(
    portal: Portal, browser: Browser, tmp_path: Path
) -> None:
    """An editor on a phone publishes a manual whose upload was cut short (12-07): refused
    beside the form in an editor's words, what was typed kept; the whole file is published."""
    staff = new_page(browser, 390)
    _login(staff, portal)
    staff.goto(f"{portal.url}/console/portal/downloads/upload/")
    staff.fill("#title", "数字证书操作手册（截断测试）")
    staff.fill("#version", "2026.1")
    whole = images.pdf(3)
    (tmp_path / "手册.pdf").write_bytes(whole[: len(whole) // 2])
    staff.locator("#file").set_input_files(str(tmp_path / "手册.pdf"))
    staff.click("form[enctype] button[type=submit]")
    expect(staff.locator("#form-error")).to_have_text(
        "文件不完整（上传中断或文件已损坏），客户下载后打不开，请重新导出文件后上传。"
    )
    expect(staff.locator("#title")).to_have_value("数字证书操作手册（截断测试）")
    _no_overflow(staff, tmp_path, "10-download-refused")
    (tmp_path / "手册.pdf").write_bytes(whole)
    staff.locator("#file").set_input_files(str(tmp_path / "手册.pdf"))
    staff.click("form[enctype] button[type=submit]")
    expect(staff.locator(".flash.flash-success")).to_contain_text(
        "已上传：数字证书操作手册（截断测试）。"
    )
    _no_overflow(staff, tmp_path, "10-download-published")
    staff.context.close()


@pytest.mark.allow_page_error(
    refused("/console/portal/downloads/upload/", 400), why="a ZIP that climbs out, refused"
)
def test_a_driver_zip_that_climbs_out_is_refused_on_a_phone(
    portal: Portal, browser: Browser, tmp_path: Path
) -> None:
    """An editor on a phone publishes a driver's ZIP with a member whose long name climbs out
    of its folder (12-07): refused beside the form, the name shown without widening the page;
    the same package packed properly is published."""
    staff = new_page(browser, 390)
    _login(staff, portal)
    staff.goto(f"{portal.url}/console/portal/downloads/upload/")
    staff.fill("#title", "Ukey驱动程序")
    name = "UkeyDriver/" + "x64_release_build_" * 3 + "../../../../Windows/System32/ukey.dll"
    (tmp_path / "驱动.zip").write_bytes(archives.zipped({name: b"MZ" + bytes(100)}))
    staff.locator("#file").set_input_files(str(tmp_path / "驱动.zip"))
    staff.click("form[enctype] button[type=submit]")
    expect(staff.locator("#form-error")).to_contain_text(
        "路径不安全（绝对路径、含“..”或控制字符、或是符号链接），解压时可能写到解压目录之外"
    )
    expect(staff.locator("#title")).to_have_value("Ukey驱动程序")
    _no_overflow(staff, tmp_path, "11-zip-refused")
    (tmp_path / "驱动.zip").write_bytes(archives.driver_zip())
    staff.locator("#file").set_input_files(str(tmp_path / "驱动.zip"))
    staff.click("form[enctype] button[type=submit]")
    expect(staff.locator(".flash.flash-success")).to_contain_text("已上传：Ukey驱动程序。")
    staff.context.close()


@pytest.mark.allow_page_error(
    refused("/console/portal/downloads/upload/", 400), why="a DOCX with a remote template, refused"
)
def test_a_form_with_a_remote_template_is_refused_and_forms_with_a_chart_pass_on_a_phone(
    portal: Portal, browser: Browser, tmp_path: Path
) -> None:
    """An editor on a phone publishes a form whose settings attach a template from a web server
    (12-07, h5): refused beside the form, the long address shown without widening the page; a
    ZIP of forms, one with a chart (its workbook two levels down), is published."""
    staff = new_page(browser, 390)
    _login(staff, portal)
    staff.goto(f"{portal.url}/console/portal/downloads/upload/")
    staff.fill("#title", "申请表")
    template = "http://198.51.100.7/templates/" + "application_form_" * 3 + "2026.dotm"
    rels = archives.relationships(("attachedTemplate", template, "External"))
    form = {**archives.docx_parts(), "word/_rels/settings.xml.rels": rels}
    (tmp_path / "申请表.docx").write_bytes(archives.zipped(form))
    staff.locator("#file").set_input_files(str(tmp_path / "申请表.docx"))
    staff.click("form[enctype] button[type=submit]")
    shown = f"文件打开时会从外部加载内容（{template[:80]}…，见word/_rels/settings.xml.rels）"
    expect(staff.locator("#form-error")).to_contain_text(shown)
    expect(staff.locator("#title")).to_have_value("申请表")
    _no_overflow(staff, tmp_path, "12-remote-template-refused")
    chart = archives.zipped(archives.with_chart(archives.docx_parts(), archives.xlsx()))
    forms = {"表格/申请表.docx": chart, "表格/清单.xlsx": archives.xlsx()}
    (tmp_path / "表格.zip").write_bytes(archives.zipped(forms))
    staff.locator("#file").set_input_files(str(tmp_path / "表格.zip"))
    staff.click("form[enctype] button[type=submit]")
    expect(staff.locator(".flash.flash-success")).to_contain_text("已上传：申请表。")
    staff.context.close()


@pytest.mark.allow_page_error(
    refused("/console/portal/downloads/upload/", 400), why="a driver's ZIP with a CAB, refused"
)
def test_a_driver_zip_with_a_cab_inside_is_refused_on_a_phone(
    portal: Portal, browser: Browser, tmp_path: Path
) -> None:
    """An editor on a phone publishes a driver's ZIP carrying an installer's cabinet (12-07,
    h2): nothing reads inside a CAB, so it is refused beside the form, its long name shown
    without widening the page; the same files unpacked into the ZIP are published."""
    staff = new_page(browser, 390)
    _login(staff, portal)
    staff.goto(f"{portal.url}/console/portal/downloads/upload/")
    staff.fill("#title", "Ukey驱动程序")
    name = "UkeyDriver/" + "x64_release_build_" * 3 + "data1.cab"
    setup = {"UkeyDriver/setup.exe": b"MZ" + bytes(100)}
    (tmp_path / "驱动.zip").write_bytes(archives.zipped({**setup, name: bad_archives.cab()}))
    staff.locator("#file").set_input_files(str(tmp_path / "驱动.zip"))
    staff.click("form[enctype] button[type=submit]")
    expect(staff.locator("#form-error")).to_contain_text(
        "是CAB格式的压缩文件，平台无法检查其中的文件，请把它解压后与其他文件一起重新打包成ZIP上传。"
    )
    expect(staff.locator("#title")).to_have_value("Ukey驱动程序")
    _no_overflow(staff, tmp_path, "13-cab-refused")
    unpacked = {**setup, "UkeyDriver/x64/ukey.inf": b"[Version]\r\n"}
    (tmp_path / "驱动.zip").write_bytes(archives.zipped(unpacked))
    staff.locator("#file").set_input_files(str(tmp_path / "驱动.zip"))
    staff.click("form[enctype] button[type=submit]")
    expect(staff.locator(".flash.flash-success")).to_contain_text("已上传：Ukey驱动程序。")
    staff.context.close()


def test_accessibility_of_the_main_public_pages(
    portal: Portal, browser: Browser, tmp_path: Path
) -> None:
    source = axe_source(tmp_path)
    page = new_page(browser, 390)
    found: dict[str, list[str]] = {}
    for path in ("/", "/guide/", "/guide/renew/", "/notices/", "/notices/1/",
                 "/notices/subscribe/", "/faq/",
                 "/usage/", "/questions/", "/questions/answer/", "/downloads/",
                 "/search/?q=证书"):  # fmt: skip
        page.goto(f"{portal.url}{path}")
        if bad := axe_violations(page, source):
            found[path] = bad
    page.context.close()
    assert found == {}
