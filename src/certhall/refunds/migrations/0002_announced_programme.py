"""The announced programme of seed 000 (深圳市政务服务数据管理局, 2021-12-21) and its four CAs.

Data, not demo: every instance knows the announced programme. The seed names "4家数字证书机构"
but its 附件2 (the list of the CAs and their counters) is not part of it: the home CA's counters
are the seed's service points; the other three institutions' counters are left for the operator
to load (docs/refunds.md, "Programmes").
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import migrations

ANNOUNCEMENT = """为贯彻落实我市惠企政策有关精神，现对符合条件的企业因使用电子政务平台而发生的第三方电子认证服务（数字证书）费用，由政府统一返还。具体公告如下：
一、申请条件
同时符合以下两个条件的企业，可申请返还第三方电子认证服务（数字证书）费用：
（1）在2017年12月31日至2020年12月31日期间在我市办理了第三方电子认证（数字证书）业务（包括申请、续期、变更、补办）并产生费用。
（2）在2017年12月31日至2020年12月31日在我市电子政务平台使用上述数字证书办理过业务。
二、申请时间
企业申请起始时间为：即日起至2022年1月20日。
三、申请方式
（一）线上申请
一般推荐线上办理，企业可持有效数字证书登录我市数字证书费用返还申请系统。
（二）线下申请
如存在企业注销、变更或数字证书过期、丢失等特殊情况，可由企业法定代表人/企业负责人持有效身份证到4家数字证书机构办理点提交返还申请。现场申请数字证书费用返还须提交以下资料：
1.企业营业执照原件及复印件（签字按指纹）、企业注销或变更的有关证明材料；
2.企业法定代表人/负责人有效身份证原件及复印件（签字按指纹）；如果法定代表人/负责人为港、澳、台人士或外国人，则提供港澳居民来往内地通行证、台湾居民来往大陆通行证或护照；合伙企业执行事务合伙人为机构的，则提供委派代表的身份证原件及复印件；
3.企业法定代表人/负责人本人银行卡原件及复印件（签字按指纹）；合伙企业执行事务合伙人为机构的，则提供申请单位的开户许可证原件及复印件。
（三）进度查询
线上、线下申请都可通过我市数字证书费用返还申请系统查询进度。
四、其他事项
咨询电话：深圳市12345政务服务便民热线。
深圳市政务服务数据管理局
2021年12月21日"""

#: (slug, name): the home CA first (its slug is ``accounts.services.HOME_PROVIDER_SLUG``).
PROVIDERS = [
    ("szca", "深圳市电子商务安全证书管理有限公司"),
    ("netca", "广东数字证书认证中心有限公司（网证通）"),
    ("gdca", "广东省电子商务认证有限公司（数安时代）"),
    ("itrus", "北京天威诚信电子商务服务有限公司"),
]

#: The seed's service points of the home CA (seed 001, 办理地址).
SZCA_COUNTERS = [
    {
        "name": "科技园文化广场",
        "address": "深圳市南山区科兴路10号科技园文化广场深圳CA受理中心",
        "hours": "周一至周日：9:00-12:00，13:30-18:00  法定节假日休息",
    },
    {
        "name": "龙岗行政服务大厅受理点",
        "address": "深圳市龙岗区龙翔大道8033-1龙岗区行政服务大厅一楼36号窗口",
        "hours": "周一至周五：9:00-12:00，14:00-18:00  周六日及法定节假日休息",
    },
    {
        "name": "龙岗受理点",
        "address": "深圳市龙岗区黄阁北路龙岗天安数码新城2号楼A座一楼深圳CA受理中心",
        "hours": "周一至周五：9:00-12:00，13:30-18:00  周六日及法定节假日休息",
    },
]


def forwards(apps: Any, schema_editor: Any) -> None:
    Provider = apps.get_model("accounts", "Provider")
    Programme = apps.get_model("refunds", "Programme")
    ProgrammeCA = apps.get_model("refunds", "ProgrammeCA")
    programme, created = Programme.objects.get_or_create(
        slug="sz-2021",
        defaults={
            "name": "深圳市电子政务平台数字证书费用返还（2021年12月公告）",
            "announcement": ANNOUNCEMENT,
            "announced_on": datetime.date(2021, 12, 21),
            "apply_from": datetime.date(2021, 12, 21),
            "apply_to": datetime.date(2022, 1, 20),
            "business_from": datetime.date(2017, 12, 31),
            "business_to": datetime.date(2020, 12, 31),
            "businesses": ["new", "renew", "change", "replace"],
            "second_review_above": Decimal("1000.00"),
        },
    )
    if not created:
        return
    for position, (slug, name) in enumerate(PROVIDERS):
        provider, _ = Provider.objects.get_or_create(slug=slug, defaults={"name": name})
        ProgrammeCA.objects.create(
            programme=programme,
            provider=provider,
            counters=SZCA_COUNTERS if slug == "szca" else [],
            position=position,
        )


def backwards(apps: Any, schema_editor: Any) -> None:
    apps.get_model("refunds", "Programme").objects.filter(slug="sz-2021").delete()


class Migration(migrations.Migration):
    dependencies = [("refunds", "0001_initial"), ("accounts", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
