//! Places of birth as the NIR encodes them: metropolitan departments weighted by population,
//! overseas departments (3-digit code, 2-digit commune) and countries of birth (99 + INSEE
//! country code). Commune numbers are plausible, not an exhaustive INSEE list.

/// A metropolitan department: code, weight (population in thousands), main commune (where
/// most maternity wards are) and highest commune number.
pub struct Department {
    pub code: &'static str,
    pub weight: u32,
    pub main_commune: u16,
    pub max_commune: u16,
}

const fn d(code: &'static str, weight: u32, main_commune: u16, max_commune: u16) -> Department {
    Department {
        code,
        weight,
        main_commune,
        max_commune,
    }
}

/// Metropolitan departments. Corsica is listed as `20` and split into 2A/2B (births from
/// 1976) by the generator; Paris, Lyon and Marseille births use arrondissement numbers.
pub const METROPOLITAN: &[Department] = &[
    d("01", 650, 53, 457),
    d("02", 530, 408, 800),
    d("03", 335, 190, 320),
    d("04", 165, 70, 245),
    d("05", 141, 61, 180),
    d("06", 1090, 88, 163),
    d("07", 328, 186, 345),
    d("08", 270, 105, 460),
    d("09", 153, 122, 335),
    d("10", 310, 387, 435),
    d("11", 375, 69, 440),
    d("12", 280, 202, 305),
    d("13", 2040, 55, 120),
    d("14", 695, 118, 760),
    d("15", 144, 14, 265),
    d("16", 352, 15, 470),
    d("17", 650, 300, 470),
    d("18", 302, 33, 290),
    d("19", 240, 272, 285),
    d("20", 340, 4, 366),
    d("21", 535, 231, 710),
    d("22", 600, 278, 390),
    d("23", 116, 96, 265),
    d("24", 413, 322, 600),
    d("25", 545, 56, 630),
    d("26", 516, 362, 375),
    d("27", 600, 229, 710),
    d("28", 430, 85, 420),
    d("29", 915, 19, 300),
    d("30", 748, 189, 355),
    d("31", 1400, 555, 590),
    d("32", 191, 13, 465),
    d("33", 1620, 63, 560),
    d("34", 1175, 172, 345),
    d("35", 1080, 238, 360),
    d("36", 219, 44, 248),
    d("37", 610, 261, 280),
    d("38", 1270, 185, 570),
    d("39", 260, 300, 600),
    d("40", 410, 192, 335),
    d("41", 330, 18, 300),
    d("42", 765, 218, 335),
    d("43", 227, 157, 270),
    d("44", 1430, 109, 230),
    d("45", 680, 234, 350),
    d("46", 174, 42, 340),
    d("47", 331, 1, 325),
    d("48", 76, 95, 200),
    d("49", 818, 7, 380),
    d("50", 495, 502, 670),
    d("51", 568, 454, 660),
    d("52", 172, 121, 550),
    d("53", 307, 130, 275),
    d("54", 733, 395, 600),
    d("55", 184, 29, 575),
    d("56", 760, 260, 265),
    d("57", 1045, 463, 770),
    d("58", 204, 194, 315),
    d("59", 2610, 350, 670),
    d("60", 830, 57, 700),
    d("61", 280, 1, 510),
    d("62", 1465, 41, 900),
    d("63", 660, 113, 475),
    d("64", 690, 445, 555),
    d("65", 228, 440, 480),
    d("66", 480, 136, 235),
    d("67", 1140, 482, 560),
    d("68", 765, 224, 385),
    d("69", 1880, 123, 300),
    d("70", 235, 550, 560),
    d("71", 550, 270, 595),
    d("72", 565, 181, 400),
    d("73", 435, 65, 330),
    d("74", 830, 10, 300),
    d("75", 2150, 101, 120),
    d("76", 1255, 540, 760),
    d("77", 1425, 288, 530),
    d("78", 1450, 646, 690),
    d("79", 375, 191, 360),
    d("80", 570, 21, 830),
    d("81", 390, 4, 330),
    d("82", 260, 121, 200),
    d("83", 1080, 137, 155),
    d("84", 560, 7, 155),
    d("85", 690, 191, 310),
    d("86", 440, 194, 300),
    d("87", 375, 85, 290),
    d("88", 365, 160, 515),
    d("89", 335, 24, 480),
    d("90", 142, 10, 110),
    d("91", 1300, 228, 690),
    d("92", 1620, 50, 78),
    d("93", 1650, 8, 79),
    d("94", 1400, 28, 81),
    d("95", 1250, 127, 690),
];

/// Overseas departments and territories: INSEE code (3 digits), weight (population in
/// thousands), number of communes (2-digit commune numbers 01..=n).
pub const OVERSEAS: &[(&str, u32, u16)] = &[
    ("971", 380, 32),
    ("972", 350, 34),
    ("973", 290, 22),
    ("974", 870, 24),
    ("975", 6, 2),
    ("976", 310, 17),
];

/// Countries of birth for people born abroad: INSEE country code (the 3 digits after 99)
/// and a weight.
pub const COUNTRIES: &[(&str, u32)] = &[
    ("352", 180), // Algérie
    ("350", 170), // Maroc
    ("139", 90),  // Portugal
    ("351", 70),  // Tunisie
    ("127", 40),  // Italie
    ("134", 40),  // Espagne
    ("208", 35),  // Turquie
    ("109", 25),  // Allemagne
    ("131", 25),  // Belgique
    ("132", 20),  // Royaume-Uni
    ("114", 25),  // Roumanie
    ("122", 10),  // Pologne
    ("140", 10),  // Suisse
    ("341", 25),  // Sénégal
    ("335", 25),  // Mali
    ("326", 25),  // Côte d'Ivoire
    ("322", 20),  // Cameroun
    ("324", 15),  // Congo
    ("312", 15),  // Congo (Rép. dém.)
    ("333", 15),  // Madagascar
    ("397", 15),  // Comores
    ("436", 10),  // Haïti
    ("243", 15),  // Viêt Nam
    ("216", 20),  // Chine
];
