"""Messages of hall (certhall.hall)."""

from certhall.messages.agent import HELPER_PAGE
from certhall.messages.common import CONTACT_US

MESSAGES: dict[str, str] = {
    # the seed's 微信扫码 / 活体验证 note, as this hall does it (there is no QR code step)
    "note_handler_photos": "经办人身份证正面照、反面照在“上传资料”一步上传（可用手机拍照上传），"
    "由深圳CA审核时核对；本网上营业厅不需要微信扫码，也不做活体验证。",
    "handler_not_found": "该单位没有这个经办人。",
    "licence_unchecked": (
        "该统一社会信用代码由网上营业厅注册，登记名称为“{name}”，尚未与营业执照核对："
        "请先在“核对营业执照”中确认或更正单位信息。"
    ),
    "staff_console_only": "工作台只对受理员、审核员、制证员和CA管理员开放。",
    "point_missing": "请先选择您所在的受理点。",
    "file_empty": "文件是空的。",
    "no_items": "申请中还没有业务，无法打印申请表。",
    "handler_missing": "请先选择经办人，再打印申请表。",
    "legal_representative_missing": "单位未登记法定代表人姓名：请在受理时填写，或手工填写申请表。",
    "document_kind": "Ukey须带到受理点现场交验，不能上传。",
    "not_onsite": "资料核验清单只用于柜台受理的申请。",
    "application_not_found": "没有编号为 {number} 的申请。",
    "onsite_application": "柜台受理的申请由受理员办理。",
    "reason_missing": "退回须写明原因：逐份资料的原因或总体说明。",
    "document_unknown": "资料 {unknown} 不是申请 {number} 当前的资料。",
    "years": "证书年限须为1-5的整数。",
    "project": "请选择办理的项目：深圳医保在线签约。",
    "nothing_ticked": "请勾选已收取的资料。",
    "form_not_needed": "这份申请表与本申请的证书类型无关。",
    "certificate_other_organization": "该证书不属于本单位，不能在此续期。",
    "not_renewal": "申请 {number} 不是网厅续期申请。",
    "renewal_not_issued": "新证书尚未签发，不能确认写入。",
    "address_missing": "邮寄须填写收件人、手机号码和地址。",
    "pickup_point_missing": "请选择自取的受理点。",
    "application_paid": "申请 {number} 已付款，请到受理点或" + CONTACT_US + "办理退款。",
    "order_mismatch": "订单 {reference} 不是申请 {number} 的当前订单。",
    "no_order": "申请 {number} 没有待支付的订单。",
    "ukey_mismatch": "插入的Ukey（序列号 {serial}）不是证书所在的Ukey {serial_2}。",
    "token_missing": "请为第{position}项业务（{label}）选择一个库存Ukey。",
    "online_renewal": "网厅续期由客户通过证书助手在线更新，不在此制证。",
    "tracking": "请填写快递运单号（6-40位字母、数字）。",
    "revoked": "证书 {serial} 已吊销，不能办理{label}。",
    "expired": (
        "证书 {serial} 已于 {end} 到期，不能办理{label}：请办理续期（持原Ukey到受理点现场办理）；"
        "Ukey遗失或损坏的，请办理新办。"
    ),
    "expired.revoke": "证书 {serial} 已于 {end} 到期，已不能使用，无需吊销。",
    "duplicate": "申请中已有证书 {serial} 的{label}。",
    "exclusive": "证书 {serial} 的介质补办或吊销须单独办理，不能与其他业务同时办理。",
    "certificate_busy": "证书 {serial} 已有办理中的申请 {number}。",
    "certificate_busy.renewal": (
        "证书 {serial} 已在线续期（申请 {number}），续期的新证书 {new} 已签发、尚未写入Ukey。"
        "如Ukey遗失或损坏，请对新证书 {new} 办理介质补办：原证书随之吊销，"
        "补办的证书有效期至 {end}（续期已付的年限保留）。"
    ),
    "certificate_busy.renewal_pending": (
        "证书 {serial} 有在线续期申请 {number}（{state}），新证书尚未签发。如Ukey遗失或损坏："
        "未付款的申请先取消，已付款的先为该申请办理退款，再对证书 {serial} 办理介质补办。"
    ),
    "serial_missing": "{label}须填写证书序列号。",
    "cert_type_mismatch": "证书 {serial} 是{label}，与所选证书类型不符。",
    "revocation_reason": "请选择吊销原因：{choices}。",
    "no_ukey": "证书 {serial} 不在本CA登记的Ukey上，无法办理介质补办。",
    "renewal_alone": "网厅续期单独办理：每个续期申请只含一张证书的续期。",
    # refusals of the hall's services and pages, by code (moved from the raise sites)
    "csr_too_large.short": "CSR 太大。",
    "handler_missing.counter": "请登记到场办理的经办人（姓名、证件、手机号码）。",
    "document_kind.unknown": "未知的资料类型“{kind}”，可选：{choices}。",
    "document_kind.handler_photo": "经办人身份证照片只用于网上办理。",
    "application_state.documents": "申请 {number} 当前为“{state}”，不能再提交资料。",
    "document_not_found": "申请 {number} 没有编号为 {id} 的资料。",
    "document_paper": "这是柜台收取的纸质资料，没有电子文件。",
    "ukey_not_in_stock.serial": "Ukey {serial} 不在库存中，不能用于制证。",
    "ukey_twice": "Ukey {serial} 被选了两次：每项业务用一个Ukey。",
    "pin_missing.renewal": (
        "续期、变更要在客户自己的Ukey上生成新密钥：请客户输入Ukey的PIN码"
        "（忘记PIN码的，同时办理解锁并设置新PIN码）。"
    ),
    "key_type": "Ukey密钥类型只能是 {choices}。",
    "handler_missing.issuance": "申请没有经办人：证书密码要发送给经办人。",
    "online_renewal.handover": "网厅续期在证书助手写入新证书后自动完成，无需交付。",
    "business": "未知的业务类型“{value}”，可选：{choices}。",
    "cert_type.missing": "请选择证书类型：org（机构证书）或 personal（机构个人证书）。",
    "cert_type": "未知的证书类型“{value}”：org（机构证书）或 personal（机构个人证书）。",
    "certificate_other_organization.item": "该证书不属于本单位。",
    "certificate_other_provider": "该证书由其他电子认证服务机构签发，请到签发该证书的机构办理。",
    "replace_cause": "介质补办须说明Ukey是遗失（lost）还是损坏（damaged）。",
    "no_ukey.business": "证书 {serial} 不在本CA登记的可用Ukey上，无法在Ukey上办理{business}。",
    "order_application_missing": "订单 {reference} 对应的申请 {number} 不存在。",
    "application_state.refund_ended": "申请 {number} 已{state}，不能退款。",
    "not_onsite.payment": "网上申请请在线支付。",
    "application_state.collect": "申请 {number} 当前为“{state}”，无需收款。",
    "refund_reason_missing": "请填写退款原因。",
    "refund_certificate_issued": "申请 {number} 已签发证书 {serial}，不能退款。",
    "refund_certificate_issued.renewal": (
        "申请 {number} 续期的新证书 {serial} 已签发，不能退款："
        "请用证书助手继续在线更新，将新证书写入Ukey。"
    ),
    "refund_certificate_issued.done": "申请 {number} 的“{business}”已办理，不能退款。",
    "application_state.refund": "申请 {number} 当前为“{state}”，不能退款。",
    "payment_required.renewal": "请先完成续期费用的支付。",
    "application_state.renewal": "申请 {number} 当前为“{state}”，不能续期。",
    "renewal_record_missing": "找不到这次续期的记录。",
    # A term the link or the form asked for that the certificate's type does not offer.
    "renewal_term_not_offered": (
        "没有{years}年期的续期：{cert_name}可续期{min_years}-{max_years}年，请选择续期年限。"
    ),
    "renewal_term_not_offered.single": (
        "没有{years}年期的续期：{cert_name}只能续期{min_years}年，请选择{max_years}年。"
    ),
    "review_staff_only": "只有电子认证服务机构的工作人员可以审核。",
    "queue_limit": "limit 须在 1-{limit} 之间。",
    "return_reason": "每份退回的资料都要写明原因（不超过{limit}个字）。",
    "project.unknown": "未知的项目“{value}”；目前只办理：{project}。",
    "state": "未知的申请状态“{state}”。",
    "list_limit": "limit 须在 1-{limit} 之间，offset 须在 0-{offset} 之间。",
    "handler_not_found.register": "本单位没有这个经办人，请先登记经办人。",
    "application_state.submitted": "申请已提交，不能再修改。",
    "application_state.delivery": "领取方式只能在提交前修改。",
    "delivery_fixed": "现场办理为自取，网厅续期为在线更新，领取方式不可选择。",
    "delivery_method": "领取方式只能是 mail（邮寄，邮费自付）或 pickup（到受理点自取）。",
    "application_state.items": "只有草稿可以增减业务。",
    "item_not_found": "申请 {number} 没有这项业务。",
    "no_items.submit": "申请中还没有任何业务：请先添加业务，再提交。",
    "handler_missing.submit": "请选择经办人：证书密码等短信发送给经办人。",
    "documents_incomplete": "资料不齐：{problems}。",
    "application_state.already_submitted": "申请 {number} 已提交（{state}）。",
    "application_state.resubmit": "申请 {number} 不是“已退回补正”状态，不需要重新提交。",
    "file_digest": "文件摘要不是SHA-256值。",
    "file_too_big": "文件超过 {mib} MB 的大小限制，请压缩或降低扫描分辨率后重新上传。",
    "file_type": "只接受PDF、JPEG或PNG格式的文件（按文件内容识别，不看扩展名）。",
    "image_too_large": (
        "图片为 {width} × {height} 像素，超过限制（最多 {megapixels} 万像素，"
        "每边不超过 {side} 像素），请缩小图片或降低扫描分辨率后重新上传。"
    ),
    "image_unreadable": "图片文件已损坏或不完整，读不出它的尺寸，请重新拍照或导出后再上传。",
    "file_incomplete": "文件不完整（上传中断或文件已损坏），请重新拍照或扫描后上传。",
    "image_damaged": "图片文件已损坏，图像内容无法显示，请重新拍照或导出后再上传。",
    "pdf_unreadable": "PDF文件已损坏，打不开，请重新扫描或导出PDF后再上传。",
    "pdf_encrypted": "PDF文件设置了打开密码，审核人员无法查看，请去掉密码后重新上传。",
    "pdf_no_pages": "PDF文件中没有页面，请重新扫描或导出PDF后再上传。",
    "pdf_too_many_pages": "PDF文件超过 {limit} 页的限制，请只扫描所需的页面后重新上传。",
    "pdf_too_complex": "PDF文件结构过于复杂，无法作为扫描件读取，请重新扫描或导出PDF后再上传。",
    "pdf_page_too_large": (
        "PDF文件第 {page} 页为 {width} × {height} 毫米，超过限制（每边不超过 {side} 毫米，"
        "A3纸为 297 × 420 毫米），请按A4或A3纸张扫描后重新上传。"
    ),
    # The machine, not the file, kept a checking child from answering (hall.storage._child).
    "upload_busy": (
        "服务器正忙，未能及时检查上传的文件（不是文件的问题），文件未保存，"
        "请 {retry_after} 秒后重新上传。"
    ),
    # An archive's refusals (hall.storage.check_archive; only the portal accepts archives).
    "archive_too_many_members": (
        "压缩文件中有 {count} 个文件，超过 {limit} 个的限制，请减少文件或分成几个压缩文件后上传。"
    ),
    "archive_path": (
        "压缩文件中的“{name}”路径不安全（绝对路径、含“..”或控制字符、或是符号链接），"
        "解压时可能写到解压目录之外，请重新打包后上传。"
    ),
    "archive_name_encoding": (
        "压缩文件中有文件名标明为UTF-8编码却不是UTF-8，解压后文件名会出错，"
        "请用常用的压缩软件重新打包后上传。"
    ),
    "archive_name_chars": (
        "压缩文件中的“{name}”的文件名含有{char_kind}（{char}），客户解压后看到的文件名与实际的不同"
        "（例如程序显示成文本文件），请改名后重新打包上传。"
    ),
    "archive_encrypted": (
        "压缩文件中的“{name}”设置了密码，下载后无法解压，请去掉密码后重新打包上传。"
    ),
    "archive_method": (
        "压缩文件中的“{name}”使用了不常见的压缩方式，无法检查，"
        "请用标准ZIP格式（Deflate压缩）重新打包后上传。"
    ),
    "archive_too_large": (
        "压缩文件解压后共 {mib} MB，超过 {limit} MB 的限制，请拆分成几个文件后分别上传。"
    ),
    "archive_ratio": (
        "压缩文件中的“{name}”解压后是压缩后大小的 {ratio} 倍（最多 {limit} 倍），"
        "像是“压缩炸弹”，不能发布，请检查文件后重新打包上传。"
    ),
    "archive_damaged": (
        "压缩文件中的“{name}”已损坏（解压失败或校验值不符），请重新打包或导出后上传。"
    ),
    "archive_unreadable": "压缩文件检查超时，无法确认其中的文件完好，请重新打包后上传。",
    "office_no_content_types": (
        "文件缺少Office文档必需的[Content_Types].xml，Word或Excel打不开它，"
        "请用Word或Excel重新保存后上传。"
    ),
    "office_no_content_types.nested": (
        "压缩文件中的“{name}”缺少Office文档必需的[Content_Types].xml，Word或Excel打不开它，"
        "请用Word或Excel重新保存后再打包上传。"
    ),
    "office_content_types": (
        "文件中的[Content_Types].xml已损坏或含有不允许的内容（DTD或实体声明），"
        "无法确认其中没有宏，请用Word或Excel重新保存后上传。"
    ),
    "office_content_types.nested": (
        "压缩文件中的“{name}”的[Content_Types].xml已损坏或含有不允许的内容（DTD或实体声明），"
        "无法确认其中没有宏，请用Word或Excel重新保存后再打包上传。"
    ),
    "office_macros": (
        "文件中含有宏（{name}），宏可能带有恶意代码，"
        "请另存为不含宏的Word文档（.docx）或Excel工作簿（.xlsx）后上传。"
    ),
    "office_activex": (
        "文件中含有ActiveX控件（{name}），打开时可能运行其中的程序，"
        "请删除控件后另存为Word文档（.docx）或Excel工作簿（.xlsx）再上传。"
    ),
    "office_ole_object": (
        "文件中嵌入了OLE对象（{name}），双击它可能运行其中的程序，"
        "请删除嵌入的对象（可改为插入图片，或把它作为单独的文件上传）后重新保存上传。"
    ),
    "office_external_content": (
        "文件打开时会从外部加载内容（{target}，见{name}），外部的模板、对象或图片可能带有恶意"
        "代码，请删除外部模板、链接的对象和图片（Word中：文件→信息→编辑指向文件的链接）后"
        "重新保存上传（普通超链接不受影响）。"
    ),
    "office_relationships": (
        "文件中的“{name}”已损坏、过大或含有不允许的内容（DTD或实体声明），无法确认它不从外部"
        "加载内容，请用Word或Excel重新保存后上传。"
    ),
    "archive_duplicate_name": (
        "压缩文件中有两个同名的“{name}”（不区分大小写），解压时后一个会覆盖前一个，"
        "检查过的和客户得到的可能不是同一个文件，请重新打包后上传。"
    ),
    "archive_hidden_data": (
        "压缩文件中有不属于任何文件的数据（例如两个压缩文件首尾相连），不同的解压软件会解出"
        "不同的内容，请重新打包后上传。"
    ),
    "archive_hidden_data.nested": (
        "压缩文件中的“{name}”里有不属于任何文件的数据（例如两个压缩文件首尾相连），不同的解压"
        "软件会解出不同的内容，请重新打包后上传。"
    ),
    "archive_name_encoding.nested": (
        "压缩文件中的“{name}”里有文件名标明为UTF-8编码却不是UTF-8，解压后文件名会出错，"
        "请用常用的压缩软件重新打包后上传。"
    ),
    "archive_nested": (
        "压缩文件中的“{name}”嵌套过深（压缩文件里只能再含一层压缩文件，Word、Excel文档也是"
        "压缩文件；只有Word、Excel文档中嵌入的图表或文档可再深一层，其中不能再有压缩文件），"
        "请把里层的压缩文件解开后重新打包上传。"
    ),
    # an archive of a format not read (hall.formats.foreign), {format} its name (7z, RAR ...)
    "archive_foreign": (
        "压缩文件中的“{name}”是{format}格式的压缩文件，平台无法检查其中的文件，"
        "请把它解压后与其他文件一起重新打包成ZIP上传。"
    ),
    "archive_foreign.image": (
        "压缩文件中的“{name}”是{format}光盘映像，平台无法检查其中的文件，"
        "请把其中的文件取出后重新打包成ZIP上传。"
    ),
    "archive_foreign.disk": (
        "压缩文件中的“{name}”是{format}磁盘映像，平台无法检查其中的文件，"
        "请把其中的文件取出后重新打包成ZIP上传。"
    ),
    "archive_foreign.program": (
        "压缩文件中的“{name}”是Windows程序（{format}可执行文件，自解压文件和安装程序也是），"
        "平台发布的是文档，不发布程序，也无法检查自解压文件中的内容，请把它删除后重新打包上传。"
    ),
    "archive_nested_too_large": (
        "压缩文件中的压缩文件“{name}”解压后为 {mib} MB，超过 {limit} MB 的限制，"
        "无法检查其中的文件，请把它解开后重新打包上传。"
    ),
    "file_not_stored": "文件不存在（存储中找不到该文件）。",
    "hall_applicants_only": "网上营业厅仅供单位账户使用；工作人员请使用受理台。",
    "handler_missing.choose": "请选择经办人。",
    "file_missing": "请选择要上传的文件（PDF、JPEG 或 PNG）。",
    "form_unknown": "没有这份表格。",
    "form_unknown.online_renewal": "网厅续期不需要打印申请表。",
    "form_unknown.not_needed": "本申请不需要这份表格。",
    "form_unknown.staff": "没有这种申请表：{key}。",
    "count": "一次可入库1-{limit}个Ukey。",
    "rate_limited_ukey_stock": (
        "本机构一小时内入库已达上限（每小时10次、每次至多20个Ukey），请{wait}后再试。"
    ),
    # An application's history (the reason of a change the platform made by itself).
    "history_paid": "订单 {reference} 已支付。",
    "history_online_renewal_approved": "网厅续期：付款成功后即可在线更新证书（无需人工审核）。",
    "history_delivered_onsite": "现场办理，领取方式：自取。",
    "history_delivered_pickup": "领取方式：自取。",
    "history_delivered_mail": "领取方式：邮寄，{carrier} 运单号 {tracking}。",
    "history_renewal_installed": "证书助手已将新证书写入Ukey，原证书已吊销。",
    # ``issuing``'s failure (``workflow.back_to_approved``): the error's own words follow
    "history_issue_failed": "制证未完成：{error}",
    "history_issue_failed.renewal": "续期未完成：{error}",
    "history_issuing_recovered": "制证中断：已恢复，可重新制证。",
    "history_renewal_replaced": (
        "Ukey{cause}，已办理介质补办：续期的新证书 {serial} 未写入该Ukey，随原证书一并吊销；"
        "补办的新Ukey上的证书有效期同样至 {end}，无需再次续期或付款。"
    ),
    "history_renewal_ended_paid": (
        "证书 {serial} 已于 {end} 到期，到期前未用证书助手完成在线更新，已不能在线续期："
        "已付的 {amount} 元已退款，原路退回付款账户。请携带办理资料和Ukey到受理点现场办理续期。"
    ),
    "history_renewal_ended_free": (
        "证书 {serial} 已于 {end} 到期，到期前未用证书助手完成在线更新，已不能在线续期，"
        "申请已取消：请携带办理资料和Ukey到受理点现场办理续期。"
    ),
    "renewal_ended_waiting": (
        "证书 {serial} 已于 {end} 到期，已不能在线更新：本申请将自动关闭，已付的款项原路退回。"
        "请携带办理资料和Ukey到受理点现场办理续期。"
    ),
    # a free one (an ODC): nothing was paid, nothing goes back
    "renewal_ended_waiting.free": (
        "证书 {serial} 已于 {end} 到期，已不能在线更新：本申请将自动取消。"
        "请携带办理资料和Ukey到受理点现场办理续期。"
    ),
    "history_renewal_ended": (
        "证书 {serial} 已于 {end} 到期，网厅续期未付款即已不能办理，申请与订单已取消："
        "请携带办理资料和Ukey到受理点现场办理续期。"
    ),
    # An online renewal whose certificate the CA revoked before the helper renewed it: it can
    # be renewed nowhere (the counter refuses a revoked certificate too), only applied for anew.
    "history_renewal_revoked_paid": (
        "证书 {serial} 已于 {end} 吊销，已不能在线续期：已付的 {amount} 元已退款，"
        "原路退回付款账户。吊销的证书不能续期，如仍需证书，请按新办流程申请。"
    ),
    "history_renewal_revoked_free": (
        "证书 {serial} 已于 {end} 吊销，已不能在线续期，申请已取消："
        "吊销的证书不能续期，如仍需证书，请按新办流程申请。"
    ),
    "renewal_revoked_waiting": (
        "证书 {serial} 已于 {end} 吊销，已不能在线更新：本申请将自动关闭，已付的款项原路退回。"
        "吊销的证书不能续期，如仍需证书，请按新办流程申请。"
    ),
    "renewal_revoked_waiting.free": (
        "证书 {serial} 已于 {end} 吊销，已不能在线更新：本申请将自动取消。"
        "吊销的证书不能续期，如仍需证书，请按新办流程申请。"
    ),
    # An unpaid online renewal of a certificate that ended or was revoked, until the round
    # cancels it: its page's notice and the refusal to start paying it (renewal.require_payable).
    "renewal_not_payable": (
        "证书 {serial} 已于 {end} 到期，已不能在线续期，本申请不能再付款，将自动取消。"
        "请携带办理资料和Ukey到受理点现场办理续期。"
    ),
    "renewal_not_payable.revoked": (
        "证书 {serial} 已于 {end} 吊销，已不能在线续期，本申请不能再付款，将自动取消。"
        "吊销的证书不能续期，如仍需证书，请携带办理资料到受理点按新办流程申请。"
    ),
    "history_renewal_revoked": (
        "证书 {serial} 已于 {end} 吊销，网厅续期未付款即已不能办理，申请与订单已取消："
        "吊销的证书不能续期，如仍需证书，请按新办流程申请。"
    ),
    # The progress path's review step while the customer corrects the application (退回补正)
    # and after: what happened and what is awaited, as 已付款，待审核 says it.
    "path_returned": "已退回，待补正",
    "path_resubmitted": "已补正，待审核",
    # ... and an online renewal's current step once the round will close it (renewal.ended_waiting)
    "path_renewal_closing": "将自动关闭并退款",
    "path_renewal_closing.cancel": "将自动取消",
    # An online renewal's progress line (我的申请, the application's page) once its certificate
    # ended or was revoked, until the round closes it (renewal.ended_notice says why).
    "next_renewal_ended": "已不能在线更新，本申请将自动关闭并退款",
    "next_renewal_ended.free": "已不能在线更新，本申请将自动取消",
    "next_renewal_ended.unpaid": "已不能在线续期，无需付款，本申请将自动取消",
    # ... and its state (the page's chip, 我的申请's 状态), from the same predicate.
    "next_renewal_ended.state": "已不能在线更新",
    # Confirmations shown after a step succeeded (the pages' flash notices).
    "application_not_editable_notice": "申请当前为“{state}”，不能再修改。",
    "done_identity_qr": "已生成二维码，请用手机扫码。",
    "done_identity_photo": "照片已上传。",
    "done_resubmitted_review": "已重新提交，等待深圳CA审核。",
    "done_application_cancelled": "申请 {number} 已取消。",
    "done_draft_created": "已创建申请 {number}，请选择经办人。",
    "notice_new_draft_open": "您有尚未提交的新办申请 {number}，已为您打开，可修改后继续。",
    "done_document_uploaded": "已上传：{name}。",
    "done_submitted_pay": "申请已提交，请支付 {total} 元。",
    "done_submitted_review": "申请已提交，等待深圳CA审核。",
    "done_renewal_started": "续期申请 {number} 已提交。",
    "done_counter_accepted": "已受理，申请编号 {number}。请添加业务。",
    "done_item_added": "已添加业务，费用按收费标准计算。",
    "done_item_removed": "已删除该项业务。",
    "done_point_chosen": "已选择受理点。",
    "done_ukeys_stocked": "已入库 {count} 个Ukey。",
    "done_licence_checked": "已核对营业执照，可以受理。",
    "done_checklist": "资料核验已记录。",
    "done_submitted": "已提交。",
    "done_resubmitted": "已重新提交审核。",
    "done_payment_recorded": "已登记收款。",
    "done_approved": "审核通过。",
    "done_returned": "已退回补正，客户将收到通知。",
    "done_delivered": "已交付。",
    "done_cancelled": "申请已取消。",
    "done_refunded": "已退款，申请关闭。",
    "done_issued": "制证完成。",
    "done_business": "{done}。",
    "calendar_warning": (
        "{year}年节假日安排尚未导入：{year}年的办理时限按法定节假日预计（不含调休），"
        "国务院办公厅通知发布后，请CA管理员导入当年安排。"
    ),
    "calendar_stale": "预览之后，{year}年的节假日安排已被导入或更改：请重新预览后再确认。",
    "done_calendar_imported": "{year}年节假日安排已导入，重新计算了 {count} 件申请的办理时限。",
    "done_calendar_unchanged": "{year}年节假日安排与已导入的相同，没有变化。",
}

# The online renewal's script on the application's page (hall/applicant-renew.js)
MESSAGES.update(
    {
        "renew_page_found": "已找到要续期的证书（序列号 {serial}，Ukey {ukey}）。",
        "renew_page_not_on_ukey": (
            "证书助手已连接，但插入的Ukey中没有序列号为 {serial} 的证书。"
            "请插入原证书所在的Ukey后刷新本页。"
        ),
        "renew_page_no_helper": ("未检测到证书助手。请安装并启动证书助手，插入Ukey后刷新本页。"),
        "renew_page_must_change": (
            "该Ukey须先修改PIN码：请在证书助手窗口中设置新PIN码，设置后将继续续期。"
        ),
        "renew_page_working": "正在生成新密钥并签名……",
        "renew_page_helper_lost": (
            "与证书助手的连接中断，新证书已签发但尚未写入Ukey。请确认证书助手正在运行、"
            "Ukey已插入，然后刷新本页，再次点击“在线更新证书”继续（无需重新付款）。"
        ),
        "renew_page_site_lost": (
            "新证书已写入Ukey，但无法连接本站确认续期。请检查网络后刷新本页，"
            "再次点击“在线更新证书”完成续期（无需重新付款）。"
        ),
        "renew_page_issuing": "正在签发新证书……",
        "renew_page_issue_failed": "新证书签发失败，请稍后重试。",
        "renew_page_installing": "新证书已签发，正在写入Ukey……",
        "renew_page_install_failed": "新证书写入Ukey失败，请重试。",
        "renew_page_confirm_failed": "无法确认续期，请稍后重试。",
        "renew_page_done": "续期完成：新证书已写入Ukey，原证书已吊销。",
        "renew_page_preparing": "正在准备续期……",
    }
)

#: The words the renewal's script reads (``messages.SCRIPT_WORDS``).
SCRIPTS: dict[str, tuple[str, ...]] = {
    "hall/applicant-renew.js": (
        *HELPER_PAGE,
        *(code for code in MESSAGES if code.startswith("renew_page_")),
    ),
}
