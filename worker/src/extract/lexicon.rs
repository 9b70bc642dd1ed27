//! The cue phrases of the extractor: event names, cooperation areas, policy
//! positions, documents, ranks, honorifics and titles. Phrases are written in
//! lower case in the canonical tone placement of [`crate::normalize`] and
//! matched on word boundaries of the lower-cased cleaned text.

use crate::record::{Area, DialogueKind, DocumentType, Relationship, Topic};

/// How strongly a phrase names an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CueStrength {
    /// The name of a mechanism ("Đối thoại Chính sách Quốc phòng").
    Named,
    /// A generic phrase ("đối thoại quốc phòng") used only when nothing names the event.
    Generic,
}

/// Event names and the kinds they signal.
pub const KIND_CUES: &[(&str, DialogueKind, CueStrength)] = &[
    (
        "đối thoại chính sách quốc phòng",
        DialogueKind::PolicyDialogue,
        CueStrength::Named,
    ),
    (
        "đối thoại chính sách an ninh quốc phòng",
        DialogueKind::PolicyDialogue,
        CueStrength::Named,
    ),
    (
        "đối thoại chiến lược quốc phòng",
        DialogueKind::StrategicDialogue,
        CueStrength::Named,
    ),
    (
        "đối thoại chiến lược quốc phòng - an ninh",
        DialogueKind::StrategicDialogue,
        CueStrength::Named,
    ),
    (
        "đối thoại chiến lược",
        DialogueKind::StrategicDialogue,
        CueStrength::Named,
    ),
    (
        "đối thoại quốc phòng - an ninh",
        DialogueKind::StrategicDialogue,
        CueStrength::Named,
    ),
    (
        "đối thoại quốc phòng – an ninh",
        DialogueKind::StrategicDialogue,
        CueStrength::Named,
    ),
    (
        "đối thoại an ninh - quốc phòng",
        DialogueKind::StrategicDialogue,
        CueStrength::Named,
    ),
    (
        "đối thoại an ninh quốc phòng",
        DialogueKind::StrategicDialogue,
        CueStrength::Named,
    ),
    (
        "đối thoại quốc phòng",
        DialogueKind::PolicyDialogue,
        CueStrength::Generic,
    ),
    ("hội đàm", DialogueKind::DefenceTalks, CueStrength::Named),
    (
        "tiếp xã giao",
        DialogueKind::CourtesyCall,
        CueStrength::Named,
    ),
    (
        "chào xã giao",
        DialogueKind::CourtesyCall,
        CueStrength::Named,
    ),
    ("hội kiến", DialogueKind::CourtesyCall, CueStrength::Named),
    (
        "tham vấn quốc phòng",
        DialogueKind::Consultation,
        CueStrength::Named,
    ),
    (
        "tham vấn chiến lược quốc phòng",
        DialogueKind::Consultation,
        CueStrength::Named,
    ),
    (
        "tham vấn chính trị - quốc phòng",
        DialogueKind::Consultation,
        CueStrength::Named,
    ),
    (
        "tham vấn chính trị – quốc phòng",
        DialogueKind::Consultation,
        CueStrength::Named,
    ),
    (
        "tham vấn an ninh quốc phòng",
        DialogueKind::Consultation,
        CueStrength::Named,
    ),
];

/// Cooperation-area phrases (SPEC §2 and their usual synonyms).
pub const AREA_CUES: &[(&str, Area)] = &[
    ("trao đổi đoàn", Area::DelegationExchange),
    ("trao đổi các đoàn", Area::DelegationExchange),
    ("tiếp xúc cấp cao", Area::DelegationExchange),
    ("đào tạo", Area::Training),
    ("giáo dục", Area::Training),
    ("học bổng", Area::Training),
    ("tập huấn", Area::Training),
    ("ngôn ngữ", Area::Training),
    ("gìn giữ hòa bình", Area::Peacekeeping),
    ("gghb", Area::Peacekeeping),
    ("công nghiệp quốc phòng", Area::DefenceIndustry),
    ("mua sắm", Area::DefenceIndustry),
    ("triển lãm quốc phòng", Area::DefenceIndustry),
    ("an ninh mạng", Area::CyberSecurity),
    ("an ninh không gian mạng", Area::CyberSecurity),
    ("an ninh hàng hải", Area::MaritimeSecurity),
    ("an ninh biển", Area::MaritimeSecurity),
    ("thực thi pháp luật trên biển", Area::MaritimeSecurity),
    ("hải quân", Area::Naval),
    ("không quân", Area::AirForce),
    ("phòng không", Area::AirForce),
    ("cứu hộ", Area::SearchAndRescue),
    ("cứu nạn", Area::SearchAndRescue),
    ("tìm kiếm cứu nạn", Area::SearchAndRescue),
    ("hỗ trợ nhân đạo", Area::Hadr),
    ("nhân đạo", Area::Hadr),
    ("cứu trợ thảm họa", Area::Hadr),
    ("quân y", Area::MilitaryMedicine),
    ("khắc phục hậu quả chiến tranh", Area::WarLegacy),
    ("bom mìn", Area::WarLegacy),
    ("chất độc da cam", Area::WarLegacy),
    ("quân nhân mất tích", Area::WarLegacy),
    ("thủy đạc", Area::HydrographyGeospatial),
    ("địa không gian", Area::HydrographyGeospatial),
    ("khoa học quân sự", Area::MilitaryScience),
    ("nghiên cứu", Area::MilitaryScience),
    ("công nghệ quốc phòng", Area::MilitaryScience),
    ("khoa học kỹ thuật", Area::MilitaryScience),
    ("khoa học công nghệ", Area::MilitaryScience),
    ("trao đổi học thuật", Area::AcademicExchange),
    ("mua bán người", Area::CounterTrafficking),
    ("chuyển đổi số", Area::DigitalTransformation),
    ("pháp chế", Area::Legal),
    ("nâng cao năng lực", Area::CapacityBuilding),
    ("đa phương", Area::MultilateralCooperation),
    ("admm", Area::MultilateralCooperation),
    ("quân, binh chủng", Area::ServicesCooperation),
    ("quân binh chủng", Area::ServicesCooperation),
    ("quân chủng, binh chủng", Area::ServicesCooperation),
    ("hội thao quân sự", Area::MilitarySports),
    ("thể thao quân sự", Area::MilitarySports),
    ("trao đổi thông tin", Area::InformationExchange),
    ("chia sẻ thông tin", Area::InformationExchange),
    ("cảnh sát biển", Area::CoastGuard),
    ("biên phòng", Area::BorderDefence),
];

/// Policy-position phrases (SPEC §2 topic codes).
pub const TOPIC_CUES: &[(&str, Topic)] = &[
    ("bốn không", Topic::FourNos),
    ("4 không", Topic::FourNos),
    ("biển đông", Topic::SouthChinaSea),
    ("unclos", Topic::Unclos),
    ("công ước liên hợp quốc về luật biển", Topic::Unclos),
    ("công ước của liên hợp quốc về luật biển", Topic::Unclos),
    ("công ước luật biển", Topic::Unclos),
    ("doc", Topic::DocCoc),
    ("coc", Topic::DocCoc),
    ("bộ quy tắc ứng xử", Topic::DocCoc),
    ("tuyên bố về ứng xử của các bên", Topic::DocCoc),
    ("vai trò trung tâm của asean", Topic::AseanCentrality),
    ("do asean dẫn dắt", Topic::AseanCentrality),
    ("vai trò của asean", Topic::AseanCentrality),
    ("luật pháp quốc tế", Topic::InternationalLaw),
    ("hiến chương liên hợp quốc", Topic::InternationalLaw),
    ("thượng tôn pháp luật", Topic::InternationalLaw),
    ("trên cơ sở luật pháp", Topic::InternationalLaw),
    ("biện pháp hòa bình", Topic::PeacefulResolution),
    ("giải quyết hòa bình", Topic::PeacefulResolution),
    ("độc lập, tự chủ", Topic::IndependentForeignPolicy),
    ("độc lập tự chủ", Topic::IndependentForeignPolicy),
    (
        "đa phương hóa, đa dạng hóa",
        Topic::IndependentForeignPolicy,
    ),
    ("covid-19", Topic::Covid19),
    ("covid", Topic::Covid19),
    ("đại dịch", Topic::Covid19),
];

/// Document phrases.
pub const DOCUMENT_CUES: &[(&str, DocumentType)] = &[
    ("bản ghi nhớ", DocumentType::Mou),
    ("biên bản ghi nhớ", DocumentType::Mou),
    ("biên bản", DocumentType::Minutes),
    ("hiệp định", DocumentType::Agreement),
    ("thỏa thuận", DocumentType::Agreement),
    ("kế hoạch hợp tác", DocumentType::Plan),
    ("tuyên bố chung", DocumentType::JointStatement),
    ("tuyên bố tầm nhìn", DocumentType::JointStatement),
    ("thư ý định", DocumentType::LetterOfIntent),
];

/// Relationship levels, the most specific first.
pub const RELATIONSHIP_CUES: &[(&str, Relationship)] = &[
    (
        "đối tác chiến lược toàn diện",
        Relationship::ComprehensiveStrategicPartnership,
    ),
    ("đối tác chiến lược", Relationship::StrategicPartnership),
    ("đối tác toàn diện", Relationship::ComprehensivePartnership),
];

/// Military ranks as written (Vietnamese press uses them for foreign officers too).
pub const RANKS: &[&str] = &[
    "Đại tướng",
    "Thượng tướng",
    "Trung tướng",
    "Thiếu tướng",
    "Chuẩn tướng",
    "Thống tướng",
    "Đại tá",
    "Thượng tá",
    "Trung tá",
    "Thiếu tá",
    "Đại úy",
    "Thượng úy",
    "Trung úy",
    "Thiếu úy",
    "Đô đốc",
    "Phó Đô đốc",
    "Chuẩn Đô đốc",
    "Nguyên soái",
];

/// Ranks written in English in Vietnamese reports, with the Vietnamese rank
/// they are recorded as (NATO equivalents).
pub const FOREIGN_RANKS: &[(&str, &str)] = &[
    ("General", "Đại tướng"),
    ("Lieutenant General", "Trung tướng"),
    ("Major General", "Thiếu tướng"),
    ("Brigadier General", "Chuẩn tướng"),
    ("Air Chief Marshal", "Đại tướng"),
    ("Air Marshal", "Trung tướng"),
    ("Air Vice Marshal", "Thiếu tướng"),
    ("Admiral", "Đô đốc"),
    ("Vice Admiral", "Phó Đô đốc"),
    ("Rear Admiral", "Chuẩn Đô đốc"),
    ("Colonel", "Đại tá"),
    ("Lieutenant Colonel", "Trung tá"),
];

/// Service words that may follow a rank ("Trung tướng Không quân X").
pub const SERVICES: &[&str] = &[
    "Không quân",
    "Hải quân",
    "Lục quân",
    "Thủy quân lục chiến",
    "Phòng không",
];

/// Honorifics before a name (not ranks).
pub const HONORIFICS: &[&str] = &[
    "Nữ Nam tước",
    "Nam tước",
    "Huân tước",
    "Ngài",
    "ông",
    "bà",
    "Ông",
    "Bà",
    "Tiến sĩ",
    "Giáo sư",
    "Dato' Seri",
    "Dato Seri",
    "Dato'",
    "Dato",
    "Datuk",
    "Tan Sri",
];

/// First words of positions.
pub const POSITION_HEADS: &[&str] = &[
    "Bộ trưởng",
    "Thứ trưởng",
    "Quốc vụ khanh",
    "Thư ký",
    "Tổng Tham mưu trưởng",
    "Tham mưu trưởng",
    "Tư lệnh",
    "Chủ nhiệm",
    "Cục trưởng",
    "Giám đốc",
    "Chánh",
    "Đại sứ",
    "Tùy viên",
    "Tổng cục trưởng",
    "Trưởng",
    "Phó",
    "Chủ tịch",
    "Tổng thư ký",
    "Viện trưởng",
    "Hiệu trưởng",
    "Người phát ngôn",
    "Thư ký Thường trực",
    "Cố vấn",
    "Tổng Bí thư",
    "Thủ tướng",
];

/// Party titles, kept out of `position`.
pub const PARTY_TITLES: &[&str] = &["Ủy viên", "Bí thư", "Phó Bí thư", "Đảng ủy", "Phó bí thư"];

/// Vietnamese family names (a name starting with one is read as Vietnamese).
pub const VIETNAMESE_SURNAMES: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý", "Đào", "Đoàn", "Vương", "Trịnh", "Trương", "Lâm", "Phùng", "Mai",
    "Tô", "Hà", "Tạ", "Cao", "Lương", "Chu", "Thái", "Đinh", "Lưu", "Quách", "Tăng", "Kiều",
    "Khổng", "Triệu", "Từ", "Văn", "Đàm", "Nghiêm", "Lại", "Mạc", "Doãn", "Thân", "Kim", "Giáp",
    "Hứa", "Châu", "Âu", "Tống", "Lục", "Ông", "Vi", "Nông", "Lò", "Quan", "Hầu", "Phí", "Thạch",
    "Ninh",
];

/// Words of which at least one appears in every report of a defence event
/// (a meeting of heads of government on trade is not one).
pub const DEFENCE_CONTEXT: &[&str] = &[
    "quốc phòng",
    "quân đội",
    "quân sự",
    "quân ủy",
    "tổng tham mưu",
    "lực lượng vũ trang",
    "lực lượng phòng vệ",
    "hải quân",
    "không quân",
    "lục quân",
    "đại tướng",
    "thượng tướng",
    "trung tướng",
    "thiếu tướng",
    "chuẩn tướng",
    "đô đốc",
    "đại tá",
    "defence",
    "defense",
    "military",
];

/// Clause markers of a referenced (past or other) event: people and dates
/// in such a sentence belong to that event, not this one.
pub const REFERENCE_MARKERS: &[&str] = &[
    "nhân chuyến thăm",
    "trong chuyến thăm",
    "chuyến thăm chính thức",
    "chuyến thăm cấp nhà nước",
    "thống nhất giữa",
    "trước đó",
    "đã từng",
    "kể từ",
];

/// Words that, capitalised, open an institution's name: a cue inside one
/// ("Học viện Khoa học Quân sự", "Ủy ban … tìm kiếm cứu nạn") is not a topic of talk.
pub const INSTITUTION_HEADS: &[&str] = &[
    "Học viện",
    "Viện",
    "Trường",
    "Trung tâm",
    "Ủy ban",
    "Văn phòng",
    "Cục",
    "Tổng cục",
    "Bộ Tư lệnh",
    "Bảo tàng",
    "Ban",
];

/// Places that fix the location of an event.
pub const CITIES: &[(&str, &str)] = &[
    ("Hà Nội", "VN"),
    ("Thành phố Hồ Chí Minh", "VN"),
    ("TP Hồ Chí Minh", "VN"),
    ("Đà Nẵng", "VN"),
    ("Hải Phòng", "VN"),
    ("Cần Thơ", "VN"),
    ("Nha Trang", "VN"),
    ("Canberra", "AU"),
    ("Tokyo", "JP"),
    ("Tô-ky-ô", "JP"),
    ("Seoul", "KR"),
    ("Xơ-un", "KR"),
    ("New Delhi", "IN"),
    ("Niu Đê-li", "IN"),
    ("Bắc Kinh", "CN"),
    ("Mát-xcơ-va", "RU"),
    ("Moscow", "RU"),
    ("Washington", "US"),
    ("Oa-sinh-tơn", "US"),
    ("Paris", "FR"),
    ("Pa-ri", "FR"),
    ("Luân Đôn", "GB"),
    ("London", "GB"),
    ("Berlin", "DE"),
    ("Béc-lin", "DE"),
    ("Jakarta", "ID"),
    ("Gia-các-ta", "ID"),
    ("Manila", "PH"),
    ("Ma-ni-la", "PH"),
    ("Bangkok", "TH"),
    ("Băng Cốc", "TH"),
    ("Viêng Chăn", "LA"),
    ("Vientiane", "LA"),
    ("Phnôm Pênh", "KH"),
    ("Phnom Penh", "KH"),
    ("Kuala Lumpur", "MY"),
    ("Minsk", "BY"),
    ("Tel Aviv", "IL"),
    ("Wellington", "NZ"),
    ("Ottawa", "CA"),
    ("Ô-ta-oa", "CA"),
    ("Rome", "IT"),
    ("Roma", "IT"),
    ("Madrid", "ES"),
    ("Brasilia", "BR"),
    ("Pretoria", "ZA"),
    ("Nay Pyi Taw", "MM"),
    ("Nây Pyi Tô", "MM"),
    ("Bandar Seri Begawan", "BN"),
    ("Ulan Bato", "MN"),
    ("La Habana", "CU"),
    ("Havana", "CU"),
    ("Singapore", "SG"),
    ("Xin-ga-po", "SG"),
];

/// Landmarks of Hà Nội visited by foreign delegations.
pub const HANOI_LANDMARKS: &[&str] = &[
    "lăng chủ tịch hồ chí minh",
    "lăng viếng chủ tịch hồ chí minh",
    "lăng bác",
    "đài tưởng niệm bắc sơn",
    "đài tưởng niệm các anh hùng liệt sĩ",
];
