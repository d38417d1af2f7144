"""The petitions the simulator brings: claims by category, the synthetic people who bring them, what forms say of them.

A `Petition` is what the simulator knows of one case while it runs (the claim, where it comes from, how it has gone
so far); the diagrams' forms get the petitioner's identity and the accused unit from it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {  # share of claims, and what people say
    "land": (0.17, ("修路占用承包地，青苗补偿款未到位", "征地补偿标准有异议", "土地确权面积与实际不符",
                    "山林权属有争议")),
    "housing": (0.08, ("危房改造补助未发放", "宅基地审批迟迟未办", "安置房墙体开裂漏水")),
    "social_security": (0.15, ("低保资格复核进度", "养老保险待遇核定有误", "残疾人两项补贴未到账",
                               "医保报销比例有疑问")),
    "labor": (0.10, ("工地拖欠农民工工资", "工伤认定进度", "企业未依法缴纳社保")),
    "environment": (0.07, ("养殖场污水直排溪沟", "采石场粉尘噪声扰民", "生活垃圾清运不及时")),
    "infrastructure": (0.14, ("饮水工程管道破裂，几个组停水", "通组公路水毁未修", "农网改造后电压不稳",
                              "便民桥年久失修")),
    "dispute": (0.18, ("与邻居宅基地界址纠纷", "山林界址纠纷", "赡养老人纠纷", "灌溉用水纠纷")),
    "accusation": (0.03, ("反映村干部优亲厚友评低保", "反映村级财务不公开", "反映项目资金使用不规范")),
    "other": (0.08, ("咨询子女入学政策", "建议增设农村客运站点", "反映广场舞噪音")),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭罗郑梁谢宋唐许韩邓冯曹彭曾肖田董袁潘蒋蔡余杜叶程魏吕丁任沈姚向舒米"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国红玉兰志文斌波辉春梅海燕琴云飞德顺福生贵"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class Resident:
    """A petitioner: name, ID number and phone (synthetic)."""

    name: str
    id_number: str
    phone: str


@dataclass
class Petition:
    """What the simulator knows of one case: who brought which claim from where, and how it goes on."""

    person: Resident
    township: str
    village: str
    grid: str | None
    category: str
    claim: str
    channel: str
    headcount: int = 1
    repeat_of: int | None = None
    times: int = 1  # how many times this person has brought this claim
    tier: str = "village"
    extras: dict[str, Any] = field(default_factory=dict)


def identity(p: Petition) -> dict[str, Any]:
    """The petitioner and the claim as a registration form records them."""
    return {"petitioner_name": p.person.name, "id_number": p.person.id_number, "phone": p.person.phone,
            "township": p.township, "village": p.village, "category": p.category, "claim": p.claim}


def accused_of(p: Petition) -> str | None:
    """An accusation names the village committee it accuses; the handling unit must not be it."""
    return p.village if p.category == "accusation" else None


def make_resident(rng: random.Random, serial: int) -> Resident:
    """A synthetic petitioner with a well-formed ID number (Xupu's area code, a valid check digit)."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    born = date(1945, 1, 1) + timedelta(days=rng.randrange(365 * 60))
    body = f"431224{born:%Y%m%d}{serial % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    phone = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
    return Resident(name, body + check, phone)
