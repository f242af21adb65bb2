"""The portal's demo content, from the seeds (``certhall setup --demo``). Idempotent: each item
has a ``seed_key`` and is created once.

Seed 000 (Traditional Chinese, kept verbatim): the refund announcement with its body, ten
Shenzhen notices with their dates, ten Guangzhou/Jiangmen notices, and twenty visitors' (游客)
questions, seeded as open. Seed 001 (Simplified): the FAQ and usage-guide entries below quote
its sentences. Dates the seed does not print are derived as docs/portal.md says. One FAQ entry
neither seed has (发票, :data:`PLATFORM_ENTRIES`) says what this platform itself does.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from certhall.accounts.models import User
from certhall.portal import entries, notices, questions, sanitize
from certhall.portal.models import Entry, Notice, Question
from certhall.portal.notices import NoticeInput

REFUND_TITLE = "廣東省深圳市電子政務平臺數字證書費用返還公告"
REFUND_SUMMARY = "1、企業申請時間為:12月21日-1月20日\n2、咨詢電話:深圳市12345政務服務便民熱線"
REFUND_BODY = """為貫徹落實我市惠企政策有關精神,現對符合條件的企業因使用電子政務平臺而發生的第三方電子認證服務(數字證書)費用,由政府統一返還。具體公告如下:
<h3>一、申請條件</h3>
同時符合以下兩個條件的企業,可申請返還第三方電子認證服務(數字證書)費用:
(1)在2017年12月31日至2020年12月31日期間在我市辦理了第三方電子認證(數字證書)業務(包括申請、續期、變更、補辦)并產生費用。
(2)在2017年12月31日至2020年12月31日在我市電子政務平臺使用上述數字證書辦理過業務。
<h3>二、申請時間</h3>
企業申請起始時間為:即日起至2022年1月20日。
<h3>三、申請方式</h3>
(一)線上申請
一般推薦線上辦理,企業可持有效數字證書登錄我市數字證書費用返還申請系統(網址:http://cerrefund.zsj.sz.gov.cn:8800/dist/index.html#/user/login),操作詳見《深圳市數字證書費用返還申請系統操作手冊》(見附件1)。
(二)線下申請
如存在企業注銷、變更或數字證書過期、丟失等特殊情況,可由企業法定代表人/企業負責人持有效身份證到4家數字證書機構辦理點(見附件2)提交返還申請。現場申請數字證書費用返還須提交以下資料:
1.企業營業執照原件及復印件(簽字按指紋)、企業注銷或變更的有關證明材料;
2.企業法定代表人/負責人有效身份證原件及復印件(簽字按指紋);如果法定代表人/負責人為港、澳、臺人士或外國人,則提供港澳居民來往內地通行證、臺灣居民來往大陸通行證或護照;合伙企業執行事務合伙人為機構的,則提供委派代表的身份證原件及復印件;
3.企業法定代表人/負責人本人銀行卡原件及復印件(簽字按指紋);合伙企業執行事務合伙人為機構的,則提供申請單位的開戶許可證原件及復印件。
(三)進度查詢
線上、線下申請都可通過我市數字證書費用返還申請系統查詢進度(網址:http://cerrefund.zsj.sz.gov.cn:8800/dist/index.html#/user/login),操作詳見《深圳市數字證書費用返還申請系統操作手冊》(見附件1)。
<h3>四、其他事項</h3>
咨詢電話:深圳市12345政務服務便民熱線。
深圳市政務服務數據管理局
2021年12月21日"""

#: (title, region, category, date). Shenzhen: the dates the seed prints. Guangzhou/Jiangmen:
#: the batch date in the title where there is one, otherwise a date placed by the seed's
#: (newest-first) order within the title's year (docs/portal.md).
NOTICES: tuple[tuple[str, str, str, date], ...] = (
    ("關于移出深圳市第六批醫用耗材價格優勢專區產品的通知", "shenzhen", "trading", date(2025, 9, 4)),
    ("關于開展2025年8月價格相關信息公示及動態調整的通知", "shenzhen", "price", date(2025, 9, 2)),
    ("深圳市醫用耗材陽光交易與監督平臺系統維護溫馨提示", "shenzhen", "system", date(2025, 8, 21)),
    ("深圳公共資源交易中心關于披露未按要求響應議價、設置配送和開通激活結算賬戶企業的通知(2025年7月)", "shenzhen", "credit", date(2025, 8, 20)),
    ("關于做好深圳市第六批醫用耗材價格談判價格優勢專區產品議價掛網準備工作的通知", "shenzhen", "trading", date(2025, 8, 18)),
    ("關于移出深圳市第一至第五批醫用耗材價格優勢專區產品的通知", "shenzhen", "trading", date(2025, 8, 13)),
    ("關于公示深圳市第六批醫用耗材價格談判價格優勢專區產品議價掛網申報結果的通知", "shenzhen", "trading", date(2025, 8, 8)),
    ("關于開展2025年7月價格相關信息公示及動態調整的通知", "shenzhen", "price", date(2025, 8, 4)),
    ("深圳公共資源交易中心關于調整部分醫用耗材集中帶量采購中選產品價格的通知(2025年7月)", "shenzhen", "price", date(2025, 7, 25)),
    ("關于做好深圳市第一至第五批醫用耗材價格談判價格優勢專區產品議價掛網準備工作的通知", "shenzhen", "trading", date(2025, 7, 23)),
    ("2025年廣州市關于待確認價格產品列表(20250714批次)", "guangzhou", "price", date(2025, 7, 14)),
    ("2025年廣州市關于醫用耗材采購交易平臺第四季度價格聯動公示表(20250701批次)", "guangzhou", "price", date(2025, 7, 1)),
    ("2025年廣州市關于價格招采信用評價“特別嚴重”和“嚴重”失信評定結果(第13期)", "guangzhou", "credit", date(2025, 6, 1)),
    ("2025年廣州市關于提醒企業在招采子系統廣州平臺專區申報產品掛網的通知", "guangzhou", "trading", date(2025, 4, 1)),
    ("2025年廣州市關于中山市第三批醫用耗材醫聯體聯盟采購產品信息表", "guangzhou", "trading", date(2025, 2, 1)),
    ("2025年廣州市關于醫用耗材采購交易平臺第四季度價格聯動公示表(20250103批次)", "guangzhou", "price", date(2025, 1, 3)),
    ("2025年廣州市關于醫用耗材采購交易平臺第四季度價格聯動公示表(20250101批次)", "guangzhou", "price", date(2025, 1, 1)),
    ("2025年江門市關于醫療機構口腔種植收費專項治理單顆種植牙總費用信息表(牙冠)", "jiangmen", "price", date(2025, 1, 1)),
    ("2025年江門市關于醫療機構口腔種植收費專項治理單顆種植牙總費用信息表(種植體系統)", "jiangmen", "price", date(2025, 1, 1)),
    ("2024年廣州市關于醫用耗材采購交易平臺第三季度價格聯動公示表(20241001批次)", "guangzhou", "price", date(2024, 10, 1)),
)  # fmt: skip

#: Seed 000's visitors' questions, verbatim, in the seed's order.
VISITOR_QUESTIONS: tuple[str, ...] = (
    "深圳平臺已經披露的企業,如果在披露期間維護了配送企業,這個還會影響企業信用嗎",
    "深圳申報產品如果產品是10卷/包,最小計量單位和最小包裝單位,包裝轉換比應該怎樣填寫",
    "深圳產品醫院是按什么單位下單",
    "深圳平臺已經提交了配送撤廢申請,配送企業沒有確認,醫院還可以正常下單嗎",
    "深圳平臺申報產品時上傳了無價格承諾函,現在審核通過了還可以維護價格嗎",
    "深圳試劑的32位規格型號代碼在哪查看",
    "深圳平臺試劑有32位規格型號代碼嗎",
    "深圳CA能和廣東廣州通用嗎",
    "深圳產品組合查看-維護儲存條件和有效期是必須要維護的嗎",
    "深圳自報價的省份掛網價格可以嗎",
    "深圳營業執照變更怎么操作",
    "深圳肝功生化檢測試劑帶量采購中選執行需要每年簽訂合同嗎",
    "深圳肝功生化檢測試劑帶量采購中選采購周期",
    "肝功生化中選產品現在需要在深圳平臺操作什么",
    "肝功生化中選產品在深圳平臺執行時間",
    "肝功生化中選的產品在深圳執行是在廣東省平臺上操作嗎",
    "深圳申訴時選擇什么類型",
    "深圳掛網產品進行標化審核通過多久新編碼同步",
    "深圳平臺已經掛網的產品,3個規格在一起,想刪除2個,并且產品已經議價了,要怎么操作",
    "深圳注冊證掃描件上傳完1張,第2張上傳的時候就把第一張抵消了怎么辦",
)

#: FAQ entries (kind, category, title, paragraphs), quoting seed 001.
ENTRIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("faq", "续期", "证书快到期了，怎样在网上续期？", (
        "1.通过注册账号或者短信验证码方式登录深圳CA网上营业厅",
        "2.点击“续期” →阅读续期指南,点击“进入续费”→ 输入证书序列号",
        "3.根据提示填写续期信息,并提交申请",
        "4.在线使用支付宝、微信进行缴费",
        "5.付款成功后即可在线更新证书",
        "网上续期须在证书到期前90天内办理；证书已过期的,须至受理点现场办理续期。",
    )),
    ("faq", "续期", "续期要多少钱？", (
        "机构证书(ODC证书):免费(只能办理1年期)",
        "机构个人证书(法人证书):150元/个/年(可办理1-5年期)",
    )),
    ("faq", "解锁与密码", "证书密码被锁住或忘记了怎么办？", (
        "深圳医保在线签约数字证书密码被锁住或遗忘,请办理解锁业务:免费。",
        "现场办理:携带办理资料和Ukey至受理点办理,当天办结(前提是资料无误)。",
    )),
    ("faq", "解锁与密码", "网上办理的证书密码怎么告知？", (
        "证书密码将会通过短信方式告知经办人。",
    )),
    ("faq", "介质补办", "Ukey丢了或坏了怎么办？", (
        "深圳医保在线签约数字证书介质遗失/损坏,请办理介质补办:",
        "机构证书(ODC证书):120元/个；机构个人证书(法人证书):50元/个。",
        "现场办理:携带办理资料至受理点办理,领取方式:自取。",
    )),
    ("faq", "受理点", "周末可以办理证书吗？", (
        "注:周末无法办理机构证书(ODC证书),机构个人证书可正常办理。",
        "科技园文化广场服务时间:周一至周日:9:00-12:00,13:30-18:00 法定节假日休息;龙岗的两个受理点周六日及法定节假日休息。",
    )),
    ("faq", "网上营业厅", "哪些证书可以在网上营业厅办理？", (
        "注:仅支持机构个人证书网厅办理(新办)。续期两类证书均可网上办理;变更、解锁、介质补办须现场办理。",
        "网厅办理:三个工作日(前提是资料无误)。",
    )),
    ("faq", "网上营业厅", "网上办理的Ukey怎么拿到？", (
        "深圳CA审核通过后将证书Ukey邮寄给客户(邮费自付)。",
    )),
    ("faq", "变更", "法人变更了，可以办理变更吗？", (
        "机构个人证书(法人证书):免费(若法人变更,则按新申请流程办理新法人证书)。",
    )),
    ("guide", "网上营业厅", "网上营业厅新办机构个人证书的步骤", (
        "1.通过注册账号或者短信验证码方式登录深圳CA网上营业厅,点击证书新办,选择“深圳医保在线签约”,根据提示上传相关资料,点击下一步跳转到二维码界面",
        "2.使用微信扫码后请在手机端上传经办人身份证正面照、反面照,并进行经办人活体验证",
        "3.在线支付宝/微信支付证书费用后,等待三个工作日深圳CA审核",
        "4.深圳CA审核通过后将证书Ukey邮寄给客户(邮费自付)",
        "5.证书密码将会通过短信方式告知经办人",
    )),
    ("guide", "网上营业厅", "数字证书网厅续期操作指引", (
        "登录深圳CA网上营业厅,点击“续期” →阅读续期指南,点击“进入续费”→ 输入证书序列号。",
        "根据提示填写续期信息并提交申请,在线使用支付宝、微信缴费,付款成功后即可在线更新证书。",
        "证书序列号可在证书助手中查看,或在本站“证书查询”中核对。",
    )),
    ("guide", "证书助手", "安装并启动证书助手", (
        "证书登录和网上续期需要在电脑上运行证书助手,由它访问插入的Ukey。",
        "在“下载”页面下载证书助手(certhall-helper.pyz),核对页面上的sha256后,按页面说明安装依赖并启动。",
        "启动后请保持窗口打开;首次使用Ukey时按提示输入证书密码(PIN)。",
    )),
    ("guide", "Ukey使用", "Ukey使用注意事项", (
        "证书密码(PIN)由短信告知经办人,请妥善保管,不要告诉他人。",
        "连续输错密码会锁住Ukey,请携带办理资料和Ukey至受理点办理解锁(免费)。",
        "Ukey遗失/损坏请办理介质补办。",
    )),
)  # fmt: skip

#: FAQ entries neither seed writes, stating what the platform does (no policy of the CA's):
#: customers ask for invoices and no public page spoke of them (12-07). 发票: what
#: ``payments.invoices`` and the order's page do (docs/payments.md, "Invoices").
PLATFORM_ENTRIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("faq", "发票", "怎样申请开具发票？", (
        "付款后可申请开具发票：登录深圳CA网上营业厅，打开该笔申请，点击“订单、收据与发票”，"
        "选择增值税普通发票或增值税专用发票，填写接收电子发票的邮箱，提交开票申请。",
        "发票抬头为单位名称，纳税人识别号为统一社会信用代码，金额按订单金额开具，每个订单开一张发票。",
        "发票开具后将通过短信和电子邮件通知，电子发票（PDF）和电子收据均可在订单页面下载。",
        "订单退款后，尚未开具的发票不再开具；已开具的发票由深圳CA开具红字发票冲销。",
    )),
)  # fmt: skip


#: The seed's refund notice (the first of :func:`seed_demo`'s), which the announced refund
#: programme names (``refunds.demo.link_announcement``).
REFUND_KEY = "seed000-notice-00"


def seed_demo(actor: User) -> dict[str, int]:
    """Create the seeds' notices, questions and FAQ/usage entries that are not there yet."""
    created = {"notices": 0, "questions": 0, "entries": 0}
    with transaction.atomic():
        items = [(REFUND_TITLE, "shenzhen", "refund", date(2022, 1, 13))]
        for n, (title, region, category, day) in enumerate([*items, *NOTICES]):
            key = f"seed000-notice-{n:02d}"  # n == 0: REFUND_KEY
            if Notice.objects.filter(seed_key=key).exists():
                continue
            refund = n == 0
            data = NoticeInput(
                title=title,
                summary=REFUND_SUMMARY if refund else "",
                body_html=_lines_as_html(REFUND_BODY) if refund else "",
                region=region,
                category=category,
                published_on=day,
                pinned=refund,
            )
            notices.publish(actor, notices.create(actor, data, seed_key=key))
            created["notices"] += 1
        for n, text in enumerate(VISITOR_QUESTIONS):
            before = Question.objects.filter(seed_key=f"seed000-question-{n:02d}")
            if not before.exists():
                questions.create_seeded(text, f"seed000-question-{n:02d}")
                created["questions"] += 1
        platform = [(f"platform-entry-{n:02d}", entry) for n, entry in enumerate(PLATFORM_ENTRIES)]
        seeded = [(f"seed001-entry-{n:02d}", entry) for n, entry in enumerate(ENTRIES)]
        for n, (key, (kind, category, title, lines)) in enumerate([*seeded, *platform]):
            if Entry.objects.filter(seed_key=key).exists():
                continue
            entry = entries.EntryInput(
                kind=kind,
                category=category,
                title=title,
                body_html=_linked(sanitize.from_plain("\n".join(lines))),
                order=(n + 1) * 10,
            )
            entries.create(actor, entry, seed_key=key)
            created["entries"] += 1
    return created


#: This platform's own pages the seeded entries name: the first mention in an entry is a link
#: (an editor writes their own links as ``<a href>`` in the entry's HTML).
OWN_PAGES = (
    ("深圳CA网上营业厅", "/hall/"),
    ("“下载”页面", "/downloads/"),
    ("“证书查询”", "/status/"),
)


def _linked(body_html: str) -> str:
    for words, path in OWN_PAGES:
        body_html = body_html.replace(words, f'<a href="{path}">{words}</a>', 1)
    return body_html


def _lines_as_html(text: str) -> str:
    """The seed's lines as paragraphs; the ``<h3>`` lines above are kept as headings."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        out.append(line if line.startswith("<h3>") else sanitize.from_plain(line))
    return "".join(out)
