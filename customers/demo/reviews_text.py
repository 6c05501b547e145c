"""Review texts composed from phrase banks, so the rating and the words always agree.

Each bank holds phrases for one aspect (quality, logistics, service, price, packaging), one
polarity and one language. 4–5 star reviews use positive phrases only, 1–2 star reviews
negative ones, 3 star reviews one of each. Sentiment models can therefore be checked
against the ground truth, and no negative phrase is a substring of a positive one
(tests/customers/test_demo_generator.py checks that too).
"""

from __future__ import annotations

import numpy as np

ASPECTS = ("quality", "logistics", "service", "price", "packaging")
LANGUAGES = ("en", "zh")
POSITIVE, NEGATIVE = 0, 1

PHRASES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "en": {
        "quality": (
            (
                "Excellent quality",
                "Very well made",
                "Works perfectly",
                "Feels solid and sturdy",
                "Exactly as described",
                "Great build quality",
            ),
            (
                "Poor quality",
                "Broke after a few days",
                "Cheaply made",
                "Stopped working within a week",
                "Nothing like the pictures",
                "Flimsy material",
            ),
        ),
        "logistics": (
            (
                "Arrived quickly",
                "Fast delivery",
                "Delivered a day early",
                "Shipping was super fast",
                "Courier was on time",
                "Got it in two days",
            ),
            (
                "Delivery took forever",
                "Arrived late",
                "Shipping was very slow",
                "Package went missing for a week",
                "Courier never called",
                "Tracking never updated",
            ),
        ),
        "service": (
            (
                "Customer service was very helpful",
                "Seller answered right away",
                "Support solved my issue quickly",
                "Friendly and patient staff",
                "The shop kept me informed",
                "Great after-sales support",
            ),
            (
                "Customer service ignored me",
                "Seller never replied",
                "Support was rude",
                "Refund request was refused",
                "Had to chase the shop for days",
                "Useless after-sales support",
            ),
        ),
        "price": (
            (
                "Great value for money",
                "Cheaper than in stores",
                "Worth every penny",
                "Good price with the coupon",
                "Affordable and good",
                "Bargain price",
            ),
            (
                "Overpriced",
                "Not worth the money",
                "Too expensive for what it is",
                "Price went down right after I bought",
                "Poor value for money",
                "Costs far too much",
            ),
        ),
        "packaging": (
            (
                "Nicely packaged",
                "Packaging was neat and secure",
                "Well protected in the box",
                "Lovely gift packaging",
                "Box arrived in perfect shape",
                "Eco-friendly packaging",
            ),
            (
                "Box was crushed",
                "Packaging was damaged",
                "Arrived with a torn package",
                "Items were loose in the box",
                "Dirty and dented box",
                "Seal was broken",
            ),
        ),
    },
    "zh": {
        "quality": (
            ("质量非常好", "做工精细", "用起来很顺手", "手感扎实", "和描述的一模一样", "品质超出预期"),
            ("质量太差", "用了几天就坏了", "做工粗糙", "一周就不能用了", "和图片差别很大", "材质很廉价"),
        ),
        "logistics": (
            ("物流很快", "发货速度快", "提前一天送到", "快递小哥很准时", "两天就收到了", "配送效率高"),
            ("物流太慢", "等了很久才到", "快递一直不更新", "包裹丢了一周", "送货延误", "配送慢得离谱"),
        ),
        "service": (
            ("客服很耐心", "卖家回复及时", "售后处理很快", "服务态度热情", "商家沟通顺畅", "售后很给力"),
            ("客服不理人", "卖家一直不回复", "客服态度恶劣", "退款被拒绝", "售后推来推去", "售后形同虚设"),
        ),
        "price": (
            ("性价比很高", "比实体店便宜", "物超所值", "用券后价格很划算", "价格实惠", "价格很良心"),
            ("价格虚高", "不值这个价", "太贵了", "刚买就降价", "性价比太低", "价格坑人"),
        ),
        "packaging": (
            ("包装精美", "包装很严实", "包装用心", "礼盒包装很漂亮", "盒子完好无损", "包装环保"),
            ("盒子压坏了", "包装破损", "外包装被撕开", "东西在盒子里乱晃", "包装又脏又瘪", "封条是开的"),
        ),
    },
}
PHRASES_PER_BANK = 6

OPENERS = {
    "en": {5: "Love it!", 4: "Happy with it.", 3: "It's okay.", 2: "Disappointed.", 1: "Terrible."},
    "zh": {5: "非常满意！", 4: "挺满意的。", 3: "一般般。", 2: "有点失望。", 1: "非常差！"},
}


def _flat_bank() -> np.ndarray:
    """All phrases in one array indexed by (language, aspect, polarity, position)."""
    bank = np.empty((len(LANGUAGES), len(ASPECTS), 2, PHRASES_PER_BANK), dtype=object)
    for li, lang in enumerate(LANGUAGES):
        for ai, aspect in enumerate(ASPECTS):
            for polarity in (POSITIVE, NEGATIVE):
                phrases = PHRASES[lang][aspect][polarity]
                assert len(phrases) == PHRASES_PER_BANK
                bank[li, ai, polarity, :] = phrases
    return bank


_BANK = _flat_bank()
# English clauses after ", but " continue the sentence, so they start in lower case.
_BANK_MID = _BANK.copy()
_BANK_MID[0] = np.vectorize(lambda s: s[:1].lower() + s[1:], otypes=[object])(_BANK[0])


def phrases(language: str, polarity: int) -> list[str]:
    """Every phrase of one polarity in one language (what tests and sentiment checks need)."""
    li = LANGUAGES.index(language)
    return list(_BANK[li, :, polarity, :].ravel())


def compose_reviews(rng: np.random.Generator, rating: np.ndarray, is_chinese: np.ndarray) -> np.ndarray:
    """One review text per rating: an opener and 1–3 aspect clauses in the matching polarity.

    Vectorised over reviews: phrases are picked by index into one bank array and joined
    with object-array string addition.
    """
    n = len(rating)
    lang = is_chinese.astype(int)
    aspects = rng.random((n, len(ASPECTS))).argsort(axis=1)[:, :3]
    clauses = rng.integers(1, 4, size=n)
    clauses = np.where(rating == 3, np.maximum(clauses, 2), clauses)  # mixed needs two sides
    polarity = np.where(rating[:, None] >= 4, POSITIVE, NEGATIVE).repeat(3, axis=1)
    polarity[rating == 3, 0] = POSITIVE
    polarity[rating == 3, 1:] = NEGATIVE
    pick = rng.integers(0, PHRASES_PER_BANK, size=(n, 3))
    parts = _BANK[lang[:, None], aspects, polarity, pick]
    mid = _BANK_MID[lang, aspects[:, 1], polarity[:, 1], pick[:, 1]]

    zh = lang == 1
    opener_en = np.array([OPENERS["en"].get(r, "") for r in range(6)], dtype=object)
    opener_zh = np.array([OPENERS["zh"].get(r, "") for r in range(6)], dtype=object)
    text = np.where(zh, opener_zh[rating], opener_en[rating] + " ") + parts[:, 0]
    mixed = rating == 3
    for slot in (1, 2):
        use = clauses > slot
        sep = np.where(zh, np.where(mixed & (slot == 1), "，但是", "，"), np.where(mixed & (slot == 1), ", but ", ". "))
        clause = np.where(mixed, mid, parts[:, 1]) if slot == 1 else parts[:, 2]
        text = np.where(use, text + sep + clause, text)
    return np.where(zh, text + "。", text + ".")
