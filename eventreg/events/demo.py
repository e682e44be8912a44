"""The demo event: the "Asyl jurek" republican volunteer slet (DOMAIN.md), 2021 values."""

DEMO_SLUG = "asyl-jurek-2021"

DEMO_EVENT = {
    "slug": DEMO_SLUG,
    "name_kk": "«Асыл жүрек» республикалық волонтерлар слеті",
    "name_ru": "Республиканский слет волонтеров «Асыл жүрек»",
    "name_en": "“Asyl jurek” Republican Volunteer Slet",
    "venue": "Қапшағай, Алматы облысы",
    "timezone": "Asia/Almaty",
    "capacity": 1500,
}

# The 17 regions of 2021: 14 oblasts and 3 cities (code, kk, ru, en).
REGIONS_2021 = [
    ("AKM", "Ақмола облысы", "Акмолинская область", "Akmola Region"),
    ("AKT", "Ақтөбе облысы", "Актюбинская область", "Aktobe Region"),
    ("ALM", "Алматы облысы", "Алматинская область", "Almaty Region"),
    ("ATY", "Атырау облысы", "Атырауская область", "Atyrau Region"),
    ("ZAP", "Батыс Қазақстан облысы", "Западно-Казахстанская область", "West Kazakhstan Region"),
    ("ZHA", "Жамбыл облысы", "Жамбылская область", "Jambyl Region"),
    ("KAR", "Қарағанды облысы", "Карагандинская область", "Karaganda Region"),
    ("KUS", "Қостанай облысы", "Костанайская область", "Kostanay Region"),
    ("KZY", "Қызылорда облысы", "Кызылординская область", "Kyzylorda Region"),
    ("MAN", "Маңғыстау облысы", "Мангистауская область", "Mangystau Region"),
    ("PAV", "Павлодар облысы", "Павлодарская область", "Pavlodar Region"),
    ("SEV", "Солтүстік Қазақстан облысы", "Северо-Казахстанская область", "North Kazakhstan Region"),
    ("YUZ", "Түркістан облысы", "Туркестанская область", "Turkistan Region"),
    ("VOS", "Шығыс Қазақстан облысы", "Восточно-Казахстанская область", "East Kazakhstan Region"),
    ("AST", "Нұр-Сұлтан қаласы", "город Нур-Султан", "Nur-Sultan city"),
    ("ALA", "Алматы қаласы", "город Алматы", "Almaty city"),
    ("SHY", "Шымкент қаласы", "город Шымкент", "Shymkent city"),
]

# (code, kk, ru, en, badge colour, capacity, self-registration)
CATEGORIES = [
    ("volunteer", "Волонтер", "Волонтер", "Volunteer", "#2e7d32", None, True),
    ("group_leader", "Топ жетекшісі", "Руководитель группы", "Group leader", "#1565c0", 200, True),
    ("yrc", "Жастар ресурстық орталығының өкілі", "Представитель молодежного ресурсного центра",
     "Youth resource centre representative", "#6a1b9a", 60, True),
    ("guest", "Ресми қонақ", "Официальный гость", "Official guest", "#c62828", 50, False),
    ("press", "Баспасөз", "Пресса", "Press", "#ef6c00", 40, False),
    ("staff", "Ұйымдастырушы", "Персонал", "Staff", "#37474f", None, False),
]

# (code, kk, ru, en, capacity, re-entry allowed)
CHECKPOINTS = [
    ("entrance", "Бас кіреберіс", "Главный вход", "Main entrance", None, True),
    ("trainings", "Тренингтер", "Тренинги", "Trainings", 300, True),
    ("games", "Волонтерлық ойындар", "Волонтерские игры", "Volunteer games", 600, True),
    ("concert", "Концерт", "Концерт", "Concert", 1500, False),
]
