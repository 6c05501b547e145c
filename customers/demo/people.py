"""Who the demo customers are: country, city, name, gender, age, job, email and phone.

Faker is used only as a source of word lists (names, with its frequency weights) read once;
every customer is then drawn with NumPy, so a million profiles take seconds, not minutes.
About 60% of customers live in China and get Chinese names, provinces, cities and
occupations; the rest are spread over the US, UK, Germany, France, Australia and Canada.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Country:
    code: str
    share: float
    currency: str
    utc_offset: int  # hours; order and event times are drawn in local time, stored in UTC
    phone_prefix: str
    phone_digits: int
    faker_locale: str
    email_domains: tuple[str, ...]
    regions: tuple[tuple[str, float, tuple[str, ...]], ...]  # (region, weight, cities)


COUNTRIES: tuple[Country, ...] = (
    Country(
        "CN",
        0.60,
        "CNY",
        8,
        "+86 1",
        10,
        "zh_CN",
        ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com"),
        (
            ("广东省", 12.6, ("广州", "深圳", "东莞", "佛山", "珠海")),
            ("江苏省", 8.5, ("南京", "苏州", "无锡", "常州")),
            ("浙江省", 6.5, ("杭州", "宁波", "温州", "绍兴")),
            ("山东省", 10.2, ("济南", "青岛", "烟台")),
            ("河南省", 9.9, ("郑州", "洛阳")),
            ("四川省", 8.4, ("成都", "绵阳")),
            ("湖北省", 5.8, ("武汉", "宜昌")),
            ("湖南省", 6.6, ("长沙", "株洲")),
            ("福建省", 4.2, ("福州", "厦门", "泉州")),
            ("上海市", 2.5, ("上海",)),
            ("北京市", 2.2, ("北京",)),
            ("天津市", 1.4, ("天津",)),
            ("重庆市", 3.2, ("重庆",)),
            ("陕西省", 4.0, ("西安", "咸阳")),
            ("辽宁省", 4.3, ("沈阳", "大连")),
            ("安徽省", 6.1, ("合肥", "芜湖")),
            ("河北省", 7.5, ("石家庄", "保定", "唐山")),
            ("云南省", 4.7, ("昆明", "大理")),
            ("广西壮族自治区", 5.0, ("南宁", "桂林")),
            ("黑龙江省", 3.2, ("哈尔滨", "大庆")),
        ),
    ),
    Country(
        "US",
        0.14,
        "USD",
        -5,
        "+1 ",
        10,
        "en_US",
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
        (
            ("California", 39.0, ("Los Angeles", "San Francisco", "San Diego", "San Jose")),
            ("Texas", 29.0, ("Houston", "Austin", "Dallas")),
            ("New York", 20.0, ("New York", "Buffalo")),
            ("Florida", 22.0, ("Miami", "Orlando", "Tampa")),
            ("Illinois", 12.6, ("Chicago",)),
            ("Washington", 7.7, ("Seattle", "Spokane")),
            ("Massachusetts", 7.0, ("Boston",)),
            ("Georgia", 10.7, ("Atlanta",)),
        ),
    ),
    Country(
        "GB",
        0.07,
        "GBP",
        0,
        "+44 7",
        9,
        "en_GB",
        ("gmail.com", "hotmail.co.uk", "btinternet.com", "outlook.com"),
        (
            ("England", 56.0, ("London", "Manchester", "Birmingham", "Leeds", "Bristol")),
            ("Scotland", 5.5, ("Edinburgh", "Glasgow")),
            ("Wales", 3.1, ("Cardiff", "Swansea")),
            ("Northern Ireland", 1.9, ("Belfast",)),
        ),
    ),
    Country(
        "DE",
        0.06,
        "EUR",
        1,
        "+49 15",
        9,
        "de_DE",
        ("gmail.com", "web.de", "gmx.de", "t-online.de"),
        (
            ("Bayern", 13.1, ("München", "Nürnberg", "Augsburg")),
            ("Berlin", 3.7, ("Berlin",)),
            ("Nordrhein-Westfalen", 17.9, ("Köln", "Düsseldorf", "Dortmund")),
            ("Hamburg", 1.9, ("Hamburg",)),
            ("Baden-Württemberg", 11.1, ("Stuttgart", "Karlsruhe")),
            ("Hessen", 6.3, ("Frankfurt am Main", "Wiesbaden")),
        ),
    ),
    Country(
        "FR",
        0.05,
        "EUR",
        1,
        "+33 6",
        8,
        "fr_FR",
        ("gmail.com", "orange.fr", "free.fr", "laposte.net"),
        (
            ("Île-de-France", 12.3, ("Paris", "Versailles")),
            ("Auvergne-Rhône-Alpes", 8.0, ("Lyon", "Grenoble")),
            ("Provence-Alpes-Côte d'Azur", 5.1, ("Marseille", "Nice")),
            ("Occitanie", 5.9, ("Toulouse", "Montpellier")),
            ("Nouvelle-Aquitaine", 6.0, ("Bordeaux",)),
        ),
    ),
    Country(
        "AU",
        0.04,
        "USD",
        10,
        "+61 4",
        8,
        "en_GB",
        ("gmail.com", "bigpond.com", "outlook.com"),
        (
            ("New South Wales", 8.2, ("Sydney", "Newcastle")),
            ("Victoria", 6.7, ("Melbourne", "Geelong")),
            ("Queensland", 5.3, ("Brisbane", "Gold Coast")),
            ("Western Australia", 2.8, ("Perth",)),
        ),
    ),
    Country(
        "CA",
        0.04,
        "USD",
        -5,
        "+1 ",
        10,
        "en_US",
        ("gmail.com", "outlook.com", "yahoo.ca"),
        (
            ("Ontario", 15.0, ("Toronto", "Ottawa")),
            ("Quebec", 8.7, ("Montreal", "Quebec City")),
            ("British Columbia", 5.3, ("Vancouver", "Victoria")),
            ("Alberta", 4.6, ("Calgary", "Edmonton")),
        ),
    ),
)
CHINA = 0  # index of China in COUNTRIES

OCCUPATIONS: tuple[tuple[str, str, float], ...] = (
    ("Software Engineer", "软件工程师", 6),
    ("Teacher", "教师", 6),
    ("Nurse", "护士", 4),
    ("Doctor", "医生", 2),
    ("Accountant", "会计", 4),
    ("Sales Manager", "销售经理", 4),
    ("Student", "学生", 0),
    ("Civil Servant", "公务员", 4),
    ("Designer", "设计师", 3),
    ("Marketing Specialist", "市场专员", 3),
    ("Product Manager", "产品经理", 3),
    ("Self-employed", "个体经营者", 6),
    ("Factory Worker", "工厂工人", 5),
    ("Driver", "司机", 3),
    ("Lawyer", "律师", 1),
    ("Researcher", "研究员", 2),
    ("Retired", "退休", 0),
    ("Homemaker", "全职主妇", 3),
    ("Chef", "厨师", 2),
    ("Financial Analyst", "金融分析师", 2),
    ("Customer Service Agent", "客服专员", 3),
    ("Administrative Assistant", "行政助理", 3),
    ("Architect", "建筑师", 1),
    ("Pharmacist", "药剂师", 1),
    ("Electrician", "电工", 2),
    ("Journalist", "记者", 1),
    ("HR Specialist", "人力资源专员", 2),
    ("Logistics Coordinator", "物流专员", 2),
    ("Photographer", "摄影师", 1),
    ("Entrepreneur", "创业者", 2),
)

GENDERS = np.array(["female", "male", "other", ""], dtype=object)
GENDER_SHARES = np.array([0.51, 0.47, 0.01, 0.01])


@dataclass(frozen=True)
class NameBank:
    """Name lists for one locale with sampling weights (most common names most often)."""

    last: np.ndarray
    last_p: np.ndarray
    female: np.ndarray
    female_p: np.ndarray
    male: np.ndarray
    male_p: np.ndarray


def _weighted(words) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(words, dict):
        keys = np.array(list(words.keys()), dtype=object)
        weights = np.array(list(words.values()), dtype=float)
    else:
        keys = np.array(sorted(set(words)), dtype=object)
        weights = np.ones(len(keys))
    return keys, weights / weights.sum()


@cache
def name_bank(locale: str) -> NameBank:
    """Read Faker's name lists for a locale once per process."""
    from importlib import import_module

    provider = import_module(f"faker.providers.person.{locale}").Provider
    last, last_p = _weighted(provider.last_names)
    female, female_p = _weighted(provider.first_names_female)
    male, male_p = _weighted(provider.first_names_male)
    return NameBank(last, last_p, female, female_p, male, male_p)


@cache
def _romanized() -> tuple[np.ndarray, np.ndarray]:
    from faker.providers.person.zh_CN import Provider

    return (
        np.array([s.lower() for s in Provider.first_romanized_names], dtype=object),
        np.array([s.lower() for s in Provider.last_romanized_names], dtype=object),
    )


@cache
def _ascii_cached(words: tuple[str, ...]) -> np.ndarray:
    """Email-safe spelling of a word list (``Müller`` → ``muller``), computed per list, not per customer."""
    out = [unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode().lower() for w in words]
    return np.array(["".join(ch for ch in w if ch.isalnum()) or "user" for w in out], dtype=object)


def _ascii(words: np.ndarray) -> np.ndarray:
    return _ascii_cached(tuple(words))


def _digits(rng: np.random.Generator, n: int, width: int) -> pd.Series:
    """Random digit strings of a fixed width (phone numbers), vectorised."""
    high = 10 ** min(width, 18)
    return pd.Series(rng.integers(0, high, size=n)).astype(str).str.zfill(width)


def country_index(rng: np.random.Generator, n: int) -> np.ndarray:
    shares = np.array([c.share for c in COUNTRIES])
    return rng.choice(len(COUNTRIES), size=n, p=shares / shares.sum())


def people_frame(
    rng: np.random.Generator, country: np.ndarray, numbers: np.ndarray, today: np.datetime64
) -> pd.DataFrame:
    """Profiles for customers whose country indexes are given; ``numbers`` makes emails unique.

    Returns columns name, gender, birth_date (datetime64[D]), country, region, city,
    occupation, email, phone, language ('zh' or 'en'), currency, utc_offset.
    """
    n = len(country)
    gender = GENDERS[rng.choice(len(GENDERS), size=n, p=GENDER_SHARES)]
    female = gender == "female"
    male = gender == "male"
    age_years = np.clip(rng.normal(34, 11, size=n), 18, 80)
    birth_date = today.astype("datetime64[D]") - (age_years * 365.25).astype("timedelta64[D]")

    name = np.empty(n, dtype=object)
    region = np.empty(n, dtype=object)
    city = np.empty(n, dtype=object)
    email_user = np.empty(n, dtype=object)
    domain = np.empty(n, dtype=object)
    phone = np.empty(n, dtype=object)
    for index, spec in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == index)
        if rows.size == 0:
            continue
        k = rows.size
        bank = name_bank(spec.faker_locale)
        last_i = rng.choice(len(bank.last), size=k, p=bank.last_p)
        female_i = rng.choice(len(bank.female), size=k, p=bank.female_p)
        male_i = rng.choice(len(bank.male), size=k, p=bank.male_p)
        use_female = female[rows] | (~male[rows] & (rng.random(k) < 0.5))
        last = bank.last[last_i]
        first = np.where(use_female, bank.female[female_i], bank.male[male_i])
        if index == CHINA:
            # Two-character given names are the most common; Faker lists single characters.
            second = np.where(
                use_female,
                bank.female[rng.choice(len(bank.female), size=k, p=bank.female_p)],
                bank.male[rng.choice(len(bank.male), size=k, p=bank.male_p)],
            )
            single = (pd.Series(first).str.len().to_numpy() == 1) & (pd.Series(second).str.len().to_numpy() == 1)
            name[rows] = last + np.where(single & (rng.random(k) < 0.6), first + second, first)
            given_r, family_r = _romanized()
            email_user[rows] = family_r[rng.integers(0, len(family_r), k)] + given_r[rng.integers(0, len(given_r), k)]
        else:
            name[rows] = first + " " + last
            first_ascii = np.where(use_female, _ascii(bank.female)[female_i], _ascii(bank.male)[male_i])
            email_user[rows] = first_ascii + "." + _ascii(bank.last)[last_i]
        weights = np.array([r[1] for r in spec.regions])
        region_idx = rng.choice(len(spec.regions), size=k, p=weights / weights.sum())
        region_names = np.array([r[0] for r in spec.regions], dtype=object)
        region[rows] = region_names[region_idx]
        # Within a region the first city listed is the biggest.
        city_pick = np.floor(rng.random(k) ** 2 * np.array([len(r[2]) for r in spec.regions])[region_idx])
        city_table = [r[2] for r in spec.regions]
        city[rows] = _city_lookup(city_table, region_idx, city_pick.astype(int))
        domain[rows] = np.array(spec.email_domains, dtype=object)[rng.integers(0, len(spec.email_domains), k)]
        lead = pd.Series(rng.integers(3, 10, size=k)).astype(str)
        phone[rows] = (spec.phone_prefix + lead + _digits(rng, k, spec.phone_digits - 1)).to_numpy()

    occ_weights = np.array([o[2] for o in OCCUPATIONS], dtype=float)
    occ_idx = rng.choice(len(OCCUPATIONS), size=n, p=occ_weights / occ_weights.sum())
    # Students and retirees follow age rather than chance.
    by_age = rng.random(n) < 0.8
    occ_idx = np.where(by_age & (age_years < 23), 6, np.where(by_age & (age_years > 62), 16, occ_idx))
    occ_en = np.array([o[0] for o in OCCUPATIONS], dtype=object)[occ_idx]
    occ_zh = np.array([o[1] for o in OCCUPATIONS], dtype=object)[occ_idx]
    china = country == CHINA
    codes = np.array([c.code for c in COUNTRIES], dtype=object)
    return pd.DataFrame(
        {
            "name": name,
            "gender": gender,
            "birth_date": birth_date,
            "country": codes[country],
            "region": region,
            "city": city,
            "occupation": np.where(china, occ_zh, occ_en),
            "email": email_user + pd.Series(numbers).astype(str).to_numpy() + "@" + domain,
            "phone": phone,
            "language": np.where(china, "zh", "en"),
            "currency": np.array([c.currency for c in COUNTRIES], dtype=object)[country],
            "utc_offset": np.array([c.utc_offset for c in COUNTRIES])[country],
        }
    )


def _city_lookup(city_table: list[tuple[str, ...]], region_idx: np.ndarray, city_pick: np.ndarray) -> np.ndarray:
    """Vectorised (region, position) → city name through a padded 2-D table."""
    width = max(len(c) for c in city_table)
    grid = np.array([list(c) + [c[0]] * (width - len(c)) for c in city_table], dtype=object)
    return grid[region_idx, city_pick]
