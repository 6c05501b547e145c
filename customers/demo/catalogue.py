"""The demo shop's catalogue: ~10 categories, their brands and a few hundred products.

Prices are list prices in USD (``Product.price``); orders convert them to the buyer's
currency. The catalogue comes from a fixed seed so every demo run, whatever its --seed,
sells the same products and a re-run without --flush finds the same SKUs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CATALOGUE_SEED = 20240101


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    name_zh: str
    median_price: float  # USD
    brands: tuple[str, ...]
    kinds: tuple[tuple[str, str], ...]  # (English, Chinese) product kinds
    bulk: float  # how often a line holds more than one unit (consumables)


CATEGORIES: tuple[Category, ...] = (
    Category(
        "electronics",
        "Electronics",
        "数码电子",
        60.0,
        ("Apple", "Xiaomi", "Huawei", "Anker", "Sony", "Samsung"),
        (
            ("Wireless Earbuds", "无线耳机"),
            ("Power Bank", "充电宝"),
            ("Smartwatch", "智能手表"),
            ("Bluetooth Speaker", "蓝牙音箱"),
            ("Phone Case", "手机壳"),
            ("USB-C Charger", "快充充电器"),
            ("Tablet", "平板电脑"),
        ),
        0.1,
    ),
    Category(
        "home-appliances",
        "Home Appliances",
        "家用电器",
        110.0,
        ("Midea", "Haier", "Philips", "Dyson", "Gree", "Supor"),
        (
            ("Air Purifier", "空气净化器"),
            ("Rice Cooker", "电饭煲"),
            ("Vacuum Cleaner", "吸尘器"),
            ("Hair Dryer", "吹风机"),
            ("Electric Kettle", "电热水壶"),
            ("Air Fryer", "空气炸锅"),
        ),
        0.05,
    ),
    Category(
        "beauty",
        "Beauty & Skincare",
        "美妆护肤",
        32.0,
        ("L'Oréal", "Estée Lauder", "Shiseido", "Perfect Diary", "Lancôme", "Florasis"),
        (
            ("Serum", "精华液"),
            ("Face Cream", "面霜"),
            ("Lipstick", "口红"),
            ("Sunscreen", "防晒霜"),
            ("Cleanser", "洁面乳"),
            ("Sheet Mask Set", "面膜"),
        ),
        0.3,
    ),
    Category(
        "apparel",
        "Apparel & Shoes",
        "服饰鞋包",
        45.0,
        ("Uniqlo", "Nike", "Adidas", "Li-Ning", "Zara", "Anta"),
        (
            ("T-Shirt", "T恤"),
            ("Hoodie", "卫衣"),
            ("Jeans", "牛仔裤"),
            ("Down Jacket", "羽绒服"),
            ("Running Shoes", "跑鞋"),
            ("Backpack", "双肩包"),
        ),
        0.2,
    ),
    Category(
        "food",
        "Food & Drinks",
        "食品饮料",
        12.0,
        ("Three Squirrels", "Nestlé", "Lindt", "Oatly", "Want Want", "Nongfu Spring"),
        (
            ("Mixed Nuts", "每日坚果"),
            ("Coffee Beans", "咖啡豆"),
            ("Chocolate", "巧克力"),
            ("Oat Milk", "燕麦奶"),
            ("Green Tea", "绿茶"),
            ("Snack Box", "零食大礼包"),
        ),
        0.6,
    ),
    Category(
        "mother-baby",
        "Mother & Baby",
        "母婴用品",
        30.0,
        ("Pampers", "Huggies", "a2", "Aptamil", "Babycare", "Pigeon"),
        (
            ("Diapers", "纸尿裤"),
            ("Infant Formula", "婴儿奶粉"),
            ("Baby Wipes", "婴儿湿巾"),
            ("Feeding Bottle", "奶瓶"),
            ("Stroller", "婴儿推车"),
        ),
        0.5,
    ),
    Category(
        "sports",
        "Sports & Outdoors",
        "运动户外",
        40.0,
        ("Decathlon", "Nike", "Keep", "Garmin", "Yonex", "The North Face"),
        (
            ("Yoga Mat", "瑜伽垫"),
            ("Dumbbells", "哑铃"),
            ("Badminton Racket", "羽毛球拍"),
            ("Camping Tent", "帐篷"),
            ("Fitness Tracker", "运动手环"),
            ("Trail Jacket", "冲锋衣"),
        ),
        0.1,
    ),
    Category(
        "home-living",
        "Home & Living",
        "家居日用",
        30.0,
        ("IKEA", "MUJI", "Lock&Lock", "Zwilling", "Nitori", "Deli"),
        (
            ("Bedding Set", "床品四件套"),
            ("Storage Box", "收纳箱"),
            ("Cookware Set", "锅具套装"),
            ("Desk Lamp", "台灯"),
            ("Towel Set", "毛巾套装"),
            ("Vacuum Flask", "保温杯"),
        ),
        0.25,
    ),
    Category(
        "books",
        "Books",
        "图书",
        15.0,
        ("Penguin", "CITIC Press", "O'Reilly", "People's Literature", "HarperCollins"),
        (
            ("Novel", "小说"),
            ("Cookbook", "菜谱"),
            ("Programming Book", "编程书"),
            ("Children's Picture Book", "儿童绘本"),
            ("History Book", "历史读物"),
        ),
        0.2,
    ),
    Category(
        "pet",
        "Pet Supplies",
        "宠物用品",
        25.0,
        ("Royal Canin", "Purina", "Pedigree", "Whiskas", "Petkit"),
        (
            ("Cat Food", "猫粮"),
            ("Dog Food", "狗粮"),
            ("Cat Litter", "猫砂"),
            ("Pet Water Fountain", "宠物饮水机"),
            ("Chew Toys", "磨牙玩具"),
        ),
        0.5,
    ),
)

_MODEL_SUFFIXES = ("", " Pro", " Lite", " Max", " Plus", " Mini", " 2", " 3", " S", " X", " Air", " Classic")


def category_names() -> list[str]:
    return [c.name for c in CATEGORIES]


def build_catalogue(products_per_category: int = 35) -> pd.DataFrame:
    """One row per product, grouped by category, most popular first within a category.

    Columns: sku, name, name_zh, category, category_zh, category_index, brand, kind,
    kind_zh, price (USD), rank (0 = best seller within its category), bulk.
    """
    rng = np.random.default_rng(CATALOGUE_SEED)
    frames = []
    for index, category in enumerate(CATEGORIES):
        n = products_per_category
        brand = rng.choice(np.array(category.brands, dtype=object), size=n)
        kind_idx = rng.integers(0, len(category.kinds), size=n)
        kinds = np.array([k[0] for k in category.kinds], dtype=object)[kind_idx]
        kinds_zh = np.array([k[1] for k in category.kinds], dtype=object)[kind_idx]
        suffix = rng.choice(np.array(_MODEL_SUFFIXES, dtype=object), size=n)
        # Each kind has its own price level inside the category; products scatter around it.
        kind_level = np.exp(rng.normal(0.0, 0.45, size=len(category.kinds)))[kind_idx]
        price = category.median_price * kind_level * np.exp(rng.normal(0.0, 0.35, size=n))
        price = np.maximum(np.floor(price) + 0.99, 1.99)
        frames.append(
            pd.DataFrame(
                {
                    "name": brand + " " + kinds + suffix,
                    "name_zh": brand + " " + kinds_zh + suffix,
                    "category": category.name,
                    "category_zh": category.name_zh,
                    "category_index": index,
                    "brand": brand,
                    "kind": kinds,
                    "kind_zh": kinds_zh,
                    "price": np.round(price, 2),
                    "rank": np.arange(n),
                    "bulk": category.bulk,
                }
            )
        )
    catalogue = pd.concat(frames, ignore_index=True)
    prefix = catalogue["category_index"].map(lambda i: CATEGORIES[i].slug[:3].upper())
    catalogue.insert(0, "sku", "SKU-" + prefix + "-" + (catalogue.index + 1).astype(str).str.zfill(4))
    # Two products with the same name in one catalogue read as a bug; number the repeats.
    dup = catalogue.groupby("name").cumcount()
    catalogue.loc[dup > 0, "name"] = catalogue["name"] + " #" + (dup + 1).astype(str)
    catalogue.loc[dup > 0, "name_zh"] = catalogue["name_zh"] + " #" + (dup + 1).astype(str)
    return catalogue
