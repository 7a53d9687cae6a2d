"""Emergency phrases, per language, as a second line of detection beside Rasa's emergency intent.

Rule kept here: a message that matches any pattern of any language is treated as an
emergency (people mix languages), whatever Rasa says. A false alarm marks a request urgent and
wakes the coordinator on call; a missed emergency can cost a life. So the patterns are phrases,
not single risky words: "mijn wc is verstopt", "brandverzekering", "ik rook", "folic acid",
"a stroke last year", "نوبة عمل" or "اترك الدخان" are everyday questions.

The lists were written from the categories the bot must catch — suicide and self-harm;
violence and threats, also at home; medical emergencies (not breathing, unconscious, heavy
bleeding, chest pain, signs of a stroke, overdose and poisoning, seizures); fire and gas —
without looking at the test messages. `tests/nlu/test_emergency.py` measures recall on the
emergency sets in `tests/data/` (words alone and words + Rasa, as the bot decides) and counts
false alarms on ordinary questions and on a trap set of ordinary questions with risky words.
"""

from __future__ import annotations

import re
import unicodedata

from nlu.normalize import normalize_text

ARABIC_LETTER = "\u0621-\u064a"
NOT_ARABIC_BEFORE = rf"(?<![{ARABIC_LETTER}])"
NOT_ARABIC_AFTER = rf"(?![{ARABIC_LETTER}])"

# Ge'ez letters Tigrinya writers use for one sound (ቕ/ቅ, ኽ/ክ, ሕ/ህ, ሓ/ሃ, ኣ/አ): a pattern written
# with either matches both. normalize_geez already folds ሠ/ሰ and ፀ/ጸ.
_GEEZ_VARIANTS = {
    "ቐ": "[ቐቀ]",
    "ቑ": "[ቑቁ]",
    "ቒ": "[ቒቂ]",
    "ቓ": "[ቓቃ]",
    "ቕ": "[ቕቅ]",
    "ኸ": "[ኸከ]",
    "ኽ": "[ኽክ]",
    "ሕ": "[ሕህ]",
    "ሓ": "[ሓሃ]",
    "ኣ": "[ኣአ]",
}


def _ti(pattern: str) -> str:
    """A Tigrinya pattern that also matches the usual spelling variants of its letters."""
    return "".join(_GEEZ_VARIANTS.get(letter, letter) for letter in pattern)


# Every Arabic pattern starts at the beginning of a word (after و/ف/ب/ال attached to it): ما
# must not match inside كما, تنفس not inside another word.
AR_WORD_START = rf"{NOT_ARABIC_BEFORE}(?:[وفب]|ال|وال|بال|لل)?"


def _ar(pattern: str) -> str:
    """An Arabic pattern that also ends at a word edge: دم must not match دمية, يقتلني not a
    longer word."""
    return rf"(?:{pattern}){NOT_ARABIC_AFTER}"


# Arabic building blocks (normalised spelling: ة→ه, أ/إ/آ→ا, ى→ي).
_AR_WANT = r"بدي|بدو|بدها|ابي|ابغي|عايز|عايزه|عاوز|عاوزه|اريد|اريد ان|نفسي|حابب|حابه|داير|دايره"
_AR_NOT = r"ما|مش|مو|لا|ماني|مابي|مابدي"
_AR_SELF = r"حالي|نفسي|روحي|حالو|حاله|حالها|نفسه|نفسها"
_AR_ME = r"ني|نا|ها|ك|كي|هم"
_AR_DRUGS = (
    r"حبوب|الحبوب|دوا|الدوا|دواء|الدواء|ادويه|الادويه|مهدئات|المهدئات|مسكنات|المسكنات"
    r"|بانادول|باراسيتامول|حبوب النوم"
)
_AR_SWALLOW = (
    r"بلع|بلعت|ابتلع|ابتلعت|اكل|اكلت|شرب|شربت|اخد|اخدت|اخذ|اخذت|تناول|تناولت|بلعو|شربو|اكلو"
    r"|اشرب|ابلع|باخد|بشرب"
)

# Fragments are matched inside normalised text (NFKC, lower case, Arabic and Ge'ez spellings
# folded). Each list holds whole phrases of one category, in the order of the issue.
PATTERNS: dict[str, tuple[str, ...]] = {
    "ar": (
        # suicide and self-harm
        _ar(r"انتحر|انتحار|انتحاري|بنتحر|انتحرت|ينتحر|تنتحر"),
        rf"(اقتل|بقتل|حقتل|نقتل|يقتل|تقتل|قتل|اكتل|اموت|اذي|اوذي|اشنق|اشنقت|ارمي|هرمي|حرمي"
        rf"|برمي) ({_AR_SELF})",
        _ar(rf"(?:{_AR_WANT}) ا?موت(?! من)"),
        _ar(r"(?:رح|راح|ح|حا|رايح|رايحه) ا?موت(?! من)"),
        rf"({_AR_NOT})( عاد| بقي| بقى)? ?({_AR_WANT}|قادر|قادره|بقدر|اقدر) ?(ان )?(ا|ن)?عيش",
        r"(انهي|انهاء|ينهي|تنهي|بنهي|اخلص|خلص|بخلص|اخلّص)( من)? (حياتي|حياته|حياتها|عمري)",
        r"تعبت من (الحياه|العيشه|حياتي|هالحياه|الدنيا)|(الحياه|حياتي) ما (الها|لها|الا) (معني"
        r"|قيمه)",
        r"(لم اعد|ما عاد|ما بقي|مش|ما) (ارغب|بدي|ابي|اريد) (في )?(الحياه|العيش|هالحياه)|رساله وداع",
        r"(انط|نط|اقفز|ارمي حالي|ارمي نفسي) (من|عن|تحت|قدام) (الشباك|البلكون|البلكونه|السطح"
        r"|الجسر|البنايه|القطار|الترين)",
        r"(اجرح|جرحت|بجرح|جرح|اقطع|قطعت|بقطع|شرحت) (حالي|نفسي|روحي|شراييني|شرياني|معصمي|عروقي)",
        r"(بالموس|بالشفره|موس|شفره)( [^ ]+){0,3} (قصدا|عمدا|عن قصد|بقصد|قاصده|قاصد)",
        r"(قصدا|عمدا|عن قصد) (بالموس|بالشفره)|ايذاء النفس|اذيه النفس|اذي نفسي",
        rf"({_AR_SWALLOW})( [^ ]+){{0,2}} (كل|علبه|كميه كبيره من|كتير من|كثير من|شريط|ظرف"
        rf"|باكيت)( [^ ]+)? ?({_AR_DRUGS})",
        r"جرعه زايده|اوفر ?دوز",
        rf"({_AR_SWALLOW})( [^ ]+){{0,2}} ({_AR_DRUGS}) (كتير|كثير|كلها|كله|كلهم)",
        # violence and threats, also at home
        _ar(
            rf"(?:ي|بي|ت|بت|عم ي|عم ت|ه|هي|ح|حي|رح ي)?"
            rf"(?:ضرب|رفس|خنق|لبط|ركل|عنف)(?:{_AR_ME}|وني|وها)"
        ),
        _ar(r"(?:ي|بي)ضرب (?:مرته|مراته|زوجته|امي|اختي|ولاده|ولادو|اولاده|بنته|بنتو|ابنه)"),
        _ar(r"عنف|معنف|معنفه|عنف اسري|عنف منزلي"),
        r"(يهدد|هدد|بيهدد|تهدد|هددني|يهددني|بيهددني|هددها|هددنا"
        r"|بهددني)[^ ]*( [^ ]+){0,4} ([^ ]*(قتل|ذبح)[^ ]*|بالسكين|بالسلاح|بالمسدس|[^ ]*اسيد"
        r"|[^ ]*حرق[^ ]*)",
        _ar(rf"(?:ي|بي|ه|هي|ح|حي|رح ي|راح ي|ت|بت)?(?:قتل|ذبح)(?:{_AR_ME})"),
        r"(ماسك|ماسكه|حامل|معه|معو|مسك|طلع|شهر|رافع|شايل) (ال)?(سكين|سكينه|مسدس|سلاح|ساطور|موس)",
        _ar(r"انطعن|انطعنت|طعنني|طعنوه|طعنوني|طعنها|مطعون|مطعونه"),
        r"طعن[^ ]*( [^ ]+)? (بالسكين|بسكين)|(يلحقني|يلاحقني|لاحقني)( [^ ]+){0,2} (و)?(يهدد|بيهدد)",
        r"اغتصب|اغتصاب|اعتدي علي|اعتدا علي|اعتدي جنسيا|اعتداء جنسي",
        r"(يكسر|بيكسر|عم يكسر|كسر|يفتح|عم يفتح) (ال)?باب( [^ ]+){0,2} (بالقوه|بيتي|بيتنا|علينا)"
        r"|(يكسر|عم يكسر|بيكسر) الباب",
        r"خايف(ه)? (منه|من (زوجي|جوزي|رجلي|ابوي|اخوي|خطيبي)|ارجع (ع|عل|على |لل)?البيت)",
        r"(مخبايه|مخباي|متخبيه|متخبي|مختبيه|مختبي)",
        r"(يرمي|رح يرمي|بيرمي|رمي) (اسيد|مويه نار|ماء نار)",
        # medical emergencies: breathing, consciousness, bleeding, chest, stroke, seizure, poison
        r"(ما|مو|مش|مانو|ماعم|ماكو)( [^ ]+){0,2} [^ ]*تنفس|(ماكو|ما في|مافي) (نفس|هوا)",
        r"(ما|مو|مش|لا)( عم| قادر| قادره| فيني| بقدر| اقدر)? ?(اخد|اخذ|ياخد|تاخد|ياخذ) نفس",
        r"اختناق|[^ ]*يختنق|[^ ]*تختنق|مخنوق|ضيق (نفس|تنفس) (شديد|قوي)|وقف (نفسه|نفسها|تنفسه"
        r"|تنفسها|قلبه|قلبها)",
        r"(فاقد|فاقده|فقد|فقدت|غايب|غايبه|غاب|غابت) (ال)?وعي|مغمي|مغما|اغمي|اغماء|غيبوبه",
        rf"({_AR_NOT})( عم)? (ي|ت|بي|بت)(صحي|صحا|فيق|وعي|حس|تحرك)(?![{ARABIC_LETTER}])",
        rf"({_AR_NOT})( عم)? (ي|ت)(رد|ستجيب)(?![{ARABIC_LETTER}])(?! (على|ع|عل) ?(ال)?(ايميل"
        rf"|رسال|طلب|تلفون|هاتف|اتصال|مكالم))",
        r"(ما|مو|مش)( عم)? (ي|ت)?فتح (عيونه|عيونها|عينه|عينها|عينيه|عينيها)",
        r"(وقع|وقعت|طاح|طاحت|سقط|سقطت|انهار|انهارت)( [^ ]+)? (فجاه|عالارض|على الارض|ع الارض|مغمي)",
        r"(وقع|وقعت|طاح|طاحت|سقط|سقطت) (من|عن) (الشباك|البلكون|البلكونه|السطح|الطابق)",
        r"نزيف(?! (لثه|اللثه|خفيف|بسيط|من (ال)?انف))"
        r"|(?<!اسناني )(?<!لثتي )(?<!اسناني ب)(?<!لثتي ب)[^ ]*(ينزف|تنزف)(?! من (ال)?انف)|(الدم"
        r"|دم) (ما|مش|مو)( عم)? (بيوقف|يوقف|يقف|بيقف|وقف)|(دم|الدم) (كتير|كثير)|(كتير|كثير) دم",
        r"(يسعل|اسعل|بسعل|يستفرغ|استفرغ|بيستفرغ|يتقيا|اتقيا|بتقيا|يكح|بكح)( [^ ]+){0,2} دم",
        r"نزيف( [^ ]+){0,3} (ما|مش|مو)( عم)? (بيوقف|يوقف|يقف|بيقف|وقف)",
        r"(الم|وجع|ضغط|عصره|نغزه)( (قوي|شديد|كبير|فظيع))? ?(ب|في|بال|في ال|ع"
        r"|على)? ?(ال)?صدر[^ ]*(?! خفيف)(?![^.؟?!]{0,20}(لما|وقت|كل ما|من الرشح|من الزكام"
        r"|من الكحه))",
        r"(جلطه|سكته|ازمه قلبيه|نوبه قلبيه)(?![^.؟?!]{0,25}(الماضي|الماضيه|الفايت|الفايته"
        r"|قبل سنه|قبل سنتين|من زمان|من سنه|من سنين))",
        r"(تمه|تمها|فمه|فمها|ثمه|ثمها|وجهه|وجهها|تمي|فمي|وجهي|بوزه|بوزها)( [^ ]+)? (مايل|مايله"
        r"|معوج|عوج|نازل|مال)",
        r"(نص|نصف|جهه|جنب|طرف) (جسمي|جسمه|جسمها|وجهي|وجهه|وجهها)( [^ ]+)? (ما عم|مش|مو|ما|مشلول"
        r"|مخدر|نايم|ثقيل|تقيل)",
        r"فجاه( [^ ]+){0,2} (ما|مو|مش) (قادر|قادره|عم|فيه|فيها) (ي|ت)?(حكي|تكلم|يحكي|تحكي|يتكلم"
        r"|تتكلم|يمشي|تمشي)",
        r"(لسانه|لسانها|كلامه|كلامها) (ثقيل|تقيل|مخربط|مش مفهوم)|انشل|انشلت|شلل مفاجئ",
        r"(خدر|تنميل|تنمل)( [^ ]+)? (ب|في |بال|في ال)?(نص|نصف|جهه|جنب|طرف) (جسم|وجه)",
        r"تشنج|اختلاج|نوبه (صرع|تشنج)|عم (يرجف|ترجف) وما|عيون(ه|ها) (لفوق|مقلوبه)",
        r"(حلقي|حلقه|حلقها|زلعومي)( [^ ]+)? (يتسكر|يسكر|مسكر|انتفخ|منتفخ)",
        r"تسمم(?! (ب|من) ?(ال)?(اكل|طعام))|مسموم|مسمومه",
        rf"({_AR_SWALLOW})( [^ ]+){{0,2}} (كلور|كلوركس|مبيض|ديتول|مبيد|سم|بطاريه|منظف|فلاش|بنزين"
        rf"|كاز|مازوت|حبوب|ادويه|مسحوق غسيل){NOT_ARABIC_AFTER}",
        r"(وجهه|وجهها|لونه|لونها|شفافه|شفايفه|شفايفها|صار|صارت) ازرق",
        # fire and gas
        rf"(?<!ضد )(?<!ضد ال){NOT_ARABIC_BEFORE}(ال|بال|و|وال)?حريق",
        r"(في|طالع|طالعه|شاعل|شاعله|مولع|مولعه|ولعت|مسكت|فيها|فيه) ([^ ]+ )?نار|النار (مسكت"
        r"|ماسكه|عم تاكل|ولعت|وصلت)",
        _ar(r"ولعت|مولع|مولعه|اشتعل|اشتعلت|احترق|احترقت|عم يحترق|عم تحترق|البيت عم يحترق"),
        r"(الدخان|دخان)( [^ ]+)? (مالي|مالا|مليان|طالع|داخل|عم يطلع|عم يدخل|كتير|كثيف|بكل مكان)",
        r"(جهاز|انذار|كاشف) (ال)?(دخان|حريق) عم (يزمر|يصفر|يرن)",
        r"ريحه (ال)?غاز|تسرب (ال)?غاز|انفجار",
        # Arabizi (Arabic in Latin letters, digits for letters)
        r"\bente?7ar|\b[ei]?(2|k)[ei]?t[eo]?l (7ali|nafsi)|\b(badd?|bd|nefs)(i|e) (a)?mo+u?t",
        r"\bma (3ad )?(badd?|bd)(i|e) (a)?3ee?sh|\bd[ae]rab(ni|na)\b|\by[eio]?drob(ni|na)\b"
        r"|\bbidrob(ni|na)\b",
        r"\by?hadd?[ae]d(ni|na)\b|\b(y|bi|ra7 y)?[ei]?(2|k)tol(ni|na)\b|\bma (3am |fini "
        r"|fiyi )?[yt]?[ei]?tnaff?as",
        r"\bma (3am )?[ty]fee2",
        r"\bbel sekk?een|\b7ari2\b",
    ),
    "ti": (
        # suicide and self-harm
        _ti(r"(ርእሰይ|ርእሰ|ነብሰይ|ነፍሰይ|ንርእሰይ|ንነብሰይ) (ክ|ን|ም)?(ቐትል|ቕታል|ቐተል)"),
        _ti(r"(ርእሰ|ነብሰ|ነፍሰ)[ -]?(ቕትለት|ቅትለት)"),
        _ti(r"(ክመውት|ክሞት|ምሟት|ምማት) (ደልየ|እደሊ|ይደሊ|ደልዩ|ደልያ|ይሓይሸኒ|ይሓይሽ)|ሞት ይሓይሸኒ"),
        _ti(r"(ክነብር|ምንባር|ክነብር'ውን) ኣይ(ደልን|ደሊን|ደልየን|ክእልን|ደልን እየ)"),
        _ti(r"ህይወተይ (ከ|ክ)?(ብቅ|ውድ|ቋር|ኽት|ክት)"),
        _ti(r"(ርእሰይ|ነብሰይ) (ክጎድእ|ምጉዳእ|ክሃስ|ክሃሲ|ቆሪጸ|ክቘርጽ)(?! ኣይደልን)"),
        _ti(r"(ካብ|ናብ) (መስኮት|ሰገነት|ናሕሲ|ድልድል|ባቡር)( [^ ]+)? (ክዘልል|ክነጥር|ክድርበ)"),
        _ti(r"(ብዙሕ|ኩሉ|ሙሉእ) (ከኒና|ፈውሲ|መድሃኒት)( [^ ]+)? (ወሲደ|ወሲዱ|ወሲዳ|ውሒጠ|ውሒጡ|ውሒጣ|ሰትየ|ሰትዩ|ሰትያ)"),
        # violence and threats, also at home
        _ti(r"ወቒ(ዑ|ዓ|ዐ)(ኒ|ና)|ይወቕ(ዓ|ዕ)(ኒ|ና|ዋ)|ይወቕዓ(?![^ ])|ይወቕዑ(ኒ|ና)"),
        _ti(r"(ይረግጸ|ረጊጹ|ረጊጻ)(ኒ|ና)|(ይሓንቐ|ሓኒቑ|ሓኒቓ|ይሓንቕ)(ኒ|ና)|ይሓንቓ(?![^ ])"),
        _ti(r"ክቐትለ(ኒ|ኪ|ና|ክን|ኩም)|ክቐትላ(?![^ ])|ክቐትሎ(?![^ ])|ቐቲሉ(ኒ|ዋ)?(?![^ ])"),
        _ti(r"(ሰብኣየይ|ሰበይተይ|ኣቦይ|ሓወይ|ሕጹየይ|ዝነበረ|ናይ ቀደም)( [^ ]+){0,4} (የ|ኣ)ፈራ(ር|ሪ)(ሓ|ሑ|ሒ)(ኒ|ና|ኩም)"),
        _ti(r"ካራ (ሒዙ|ሒዛ|ኣልዒሉ|ኣውጺኡ|ኣውጺኣ)|ብካራ (ወጊ|ተወጊ|የፈራ|ኣፈራ|ክወግ|ክቐትል)|ተወጊ(ኡ|ኣ|አ)|ወጊኡ(ኒ|ዋ)"),
        _ti(r"ዓመጽ|ብሓይሊ (ክኣቱ|ክኸፍት|ይኣቱ|ኣትዩ|ከፊቱ)|ተሓቢ(አ|እና|ኣ) ኣለ|ደፊሩ(ኒ|ዋ)|ጾታዊ ዓመጽ"),
        _ti(r"ኣሲድ (ክድርብ|ኣብ ገጽ)|ገጽ[^ ]* ኣሲድ"),
        # medical emergencies: breathing, consciousness, bleeding, chest, stroke, seizure, poison
        _ti(r"ኣይ(ት)?ተንፍስን|ክ(ት)?ተንፍስ ኣይ|ትንፋ(ስ|ሰይ|ሱ|ሳ) (የብሉን|የብላን|የብለይን|ሓጺ|ዓጽ|ተዓጽ|ጠፊ|ሓጺሩ)"),
        _ti(r"ኣይ(ት)?(ምልስ|ምልሰልናን|ምልሰለይን|ንቕሕ|ነቕሕ|ነቅሕ)ን|ኣይምልሰልናን|ኣይምልሰልናን"),
        _ti(r"ወዲ(ቑ|ቓ)( [^ ]+){0,2} ኣይ|ስምዒት (የብሉን|የብላን)|ዓይ(ኑ|ና) ኣይ(ት)?ከፍ(ት|ቱ)ን"),
        _ti(r"(ብዙሕ|ብዙሕ ብዙሕ) ደም|ደም (ይፈስስ|ይፈስ|ይውሕዝ|ይፈስሶ|ይፈሶ|ኣይደውን|ኣይጠጠወን|ኣይቋረጽን)"),
        _ti(r"ካብ (ኣፈይ|ኣፉ|ኣፋ|ርእሱ|ርእሳ)( [^ ]+)? ደም"),
        _ti(
            r"(ቃንዛ|ስቓይ) (ኣፍ ልቢ|ኣፍልቢ|ኣፍልበይ|ኣፍ ልበይ|ልቢ)"
            r"|ኣፍ ?ልበ(ይ|ዩ|ኡ)( [^ ]+)? (ብርቱዕ )?(ቃንዛ|ስቓይ)|ልቡ ደው|ልባ ደው"
        ),
        _ti(r"ፍርቂ (ኣካለይ|ኣካሉ|ኣካላ|ገጸይ|ገጹ|ገጻ|ሰብነተይ|ሰብነቱ|ሰብነታ|ሰውነተይ|ሰውነቱ|ሰውነታ)"),
        _ti(r"(ክዛረብ|ክትዛረብ) ኣይ(ከኣለን|ከኣለትን|ክእልን|ትኽእልን)|ዘረባ(ኡ|ኣ) (ተዘናጊ|ተበላሺ)|(ገጹ|ገጻ|ኣፉ|ኣፋ) (ተጠዊ|ዓወ)"),
        _ti(r"(?<!ዓሚ )ስትሮክ(?![^.?!]{0,20}(ነይሩ|ነይራ))"),
        _ti(r"(ሰብነ|ሰውነ)(ቱ|ታ)( ኩሉ)? ይን(ቀ|ቐ)ጥ(ቀ|ቐ)ጥ|ምጥማጥ (ሒዝዎ|ሒዝዋ|ሒዙዎ|ሒዙዋ)"),
        _ti(r"መርዚ|ተመሪ(ዙ|ዛ|ዘ)"),
        _ti(
            r"(ከኒና|መድሃኒት|ፈውሲ|ባተሪ|ሳሙና|በረኪና|ቫርኪና|ኬሚካል)( [^ ]+){0,2} (ውሒ(ጡ|ጣ|ጠ)|ሰቲ(ዩ|ያ)|ሰትየ|በሊ(ዑ|ዓ|ዐ))"
        ),
        _ti(r"(ገጹ|ገጻ|ከናፍሩ|ከናፍራ)( [^ ]+)? ሰማያዊ"),
        # fire and gas
        _ti(r"ሓዊ (ተላዒሉ|ሒዙ|ተታሒዙ|ይነድድ|ተወሊዑ)|ይነድድ ኣሎ|ገዛ (ይቃጸል|ተቓጺሉ)|ተወሊዑ"),
        _ti(r"ትኪ (ይኣቱ|መሊኡ|ብዙሕ|ኣሎ)|ናይ ትኪ መጠንቀቕታ|ጋዝ (ይፈስስ|ይሽተት|ይጨንን)"),
    ),
    "nl": (
        # suicide and self-harm
        r"zelfmoord|su[iï]ci?d",
        r"\bmezelf (van kant|dood|iets aan|ophangen|verdrinken|snijden|krassen|pijn doen"
        r"|beschadigen|verwonden|(te )?doden)",
        r"\b(snij|snijd|snijdt|kras|sneed|beschadig) (ik )?mezelf\b|\bmezelf (gesneden|gekrast"
        r"|beschadigd)",
        r"\bik (wil|ga|zou willen) (echt )?(dood|sterven)\b(?! van)",
        r"\b(wil|ga|zal) (echt )?(niet|nooit) meer (leven|wakker worden)",
        r"\bgeen zin (meer )?(in|om te|om nog te) leven|\blevensmoe|\bafscheidsbrief",
        r"\bklaar met (het )?leven|\bniet meer wakker (te )?(word|worden)\b|\b(laatste (woorden"
        r"|bericht)|afscheidsbericht|vaarwel voor altijd)",
        r"\btouw (hangt|ligt) (al )?klaar|\b(spaar|gespaard|verzameld|verzamel) (al weken "
        r"|al maanden )?(pillen|tabletten|medicijnen)",
        r"\b(eind|einde) aan (mijn|m'n|zijn|haar) leven|\ber (een )?(eind|einde) aan\b",
        r"\bzie het (echt |gewoon |allemaal )?niet meer zitten",
        r"\b(voor|onder) (de|een) trein (te )?(springen|spring|gaan liggen)|spring(en)? (voor"
        r"|van|uit) (de|een|het) (trein|brug|flat|dak|raam|balkon)",
        r"\bvan (de|een|het) (brug|flat|dak|balkon) (af )?(te )?springen",
        r"\boverdosis",
        r"\b(te ?veel|een hele (strip|doos|pot|fles|flesje)|alle|al (mijn|m'n|zijn|haar"
        r"|de)) (\w+ ){0,2}(pillen|tabletten|medicijnen|slaappillen|paracetamol|pijnstillers"
        r"|medicatie) (\w+ ){0,2}(ingenomen|geslikt|genomen|ingeslikt|opgegeten|innemen"
        r"|slikken)\b",
        # violence and threats, also at home
        r"\b(slaat|slaan|sloeg|sloegen|schopt|schopte|stompt|stompte|wurgt|wurgde|mishandelt"
        r"|trapt|trapte) (me|mij|ons|hem|haar"
        r"|(mijn|zijn|haar) (vrouw|moeder|zus|dochter|zoon|kind|kinderen|man|vriendin))\b",
        r"\b(me|mij|haar|ons|hem) (\w+ ){0,2}(geslagen|geschopt|gewurgd|neergestoken|mishandeld"
        r"|verkracht|in elkaar geslagen|getrapt)",
        r"\bin elkaar (slaan|geslagen|getrapt|trappen|schoppen)|\bmishandel|\bhuiselijk geweld"
        r"|\bgeweld (thuis|in huis)",
        r"\b(dreigt|dreigde|bedreigt|bedreigde|bedreigd) (\w+ ){0,3}(te (vermoorden|doden|steken"
        r"|slaan|schieten|verbranden)|met (de dood|een mes|een wapen|een pistool|zuur"
        r"|een vuurwapen)|neer te steken|dood te (maken|steken))",
        r"\b(me|mij|ons|haar|hem|iedereen|jou|de kinderen|mijn kinderen) (\w+ ){0,2}(vermoord"
        r"|vermoordt|vermoorden|dood ?maken|doodmaakt|afmaken|neer ?te ?steken|neersteken"
        r"|dood ?te ?steken|doodsteken|doodt)\b",
        r"\b(ons|me|mij|haar|hem) pijn (gaat|zal|wil) doen|\bgaat (ons|me|mij|haar) pijn doen"
        r"|\bin brand (steken|te steken|gestoken)",
        r"\b(met|heeft|pakt|pakte|trekt|zwaait met) (een|zijn|haar|het) (mes|pistool|wapen"
        r"|vuurwapen)\b",
        r"\bneergestoken|met een mes (gestoken|bedreigd)|\b(buik|borst|rug|nek|hals) gestoken",
        r"\bverkracht|aanranding|zuur (in|over|op) (mijn|m'n|haar|je|zijn) gezicht",
        r"\b(inbreker|inbrekers)\b|\b(probeert|proberen|wil|willen) (\w+ ){0,2}(binnen te komen"
        r"|in te breken|open te breken)|deur (in|open) (te )?(trappen|breken)",
        r"\bbang (voor mijn leven|dat (hij|zij|ze) (me|mij|ons) (iets aandoet|vermoordt|doodt"
        r"|slaat))",
        r"\b(ik|we|wij) (zit|zitten|heb|hebben) (me |mij |ons )?verstopt\b",
        r"\b(me|mij|ons|haar) (\w+ )?aangevallen|\b(zit|zitten) (\w+ )?opgesloten|\bsluit (me"
        r"|mij|ons) op|\b(is|zijn) (\w+ )?(net |nu )?ingebroken en",
        r"\bstuur (nu |snel )?(de politie|een ambulance|hulp)|\bbel de politie",
        # medical emergencies: breathing, consciousness, bleeding, chest, stroke, seizure, poison
        r"\b(ademt|ademde) (niet|nauwelijks|bijna niet|zwak|heel zwak)|\bkan (niet|nauwelijks"
        r"|bijna niet) (meer )?ademen",
        r"\b(krijg|krijgt|kreeg) (geen|bijna geen|nauwelijks) (lucht|adem)|\bstik(t|ken|te)?\b"
        r"|ademhaling (stopt|is gestopt)",
        r"\bbewusteloos|buiten bewustzijn|\bflauw ?(gevallen|gevallen|valt|viel)"
        r"|\bkomt niet (meer )?bij\b|\bwordt niet (meer )?wakker",
        r"\breageert (niet|nergens) meer\b(?! op (mijn|m'n|de|onze|ons) (e-?mails?|brie(f|ven)"
        r"|bericht(en)?|bezwaar|aanvraag|mail|vragen))",
        r"\ben reageert (niet|nergens)\b|\breageert niet (meer )?op (aanspreken|pijn|ons|mij"
        r"|zijn naam|haar naam)|\bgeen (hartslag|pols)",
        r"\b(viel|valt) (ineens |opeens |plotseling )?(om|neer)\b|in elkaar (gezakt|gezakt|zakte)",
        r"\bbloedt (heel |erg |zo |enorm |hevig )*(erg|veel|hevig|enorm|flink)|bloed(t"
        r"|en)? (en )?(stopt|houdt) niet|\b(veel|heel veel) bloed\b|\bhevige bloeding"
        r"|\bslagaderlijke",
        r"\b(bloed (op)?hoesten|hoest bloed|spuugt bloed|braakt bloed|bloed (overgeven|spugen))",
        r"\b(braakt|spuugt) (\w+ )?bloed|\boveral bloed|\bbloed spuit|\bspuit bloed|\b(ik|hij"
        r"|zij|ze) bloed(t)? (heel |erg |zo )?(veel|hevig)\b|\bverlies (\w+ )?(veel )?bloed",
        r"(?<!lichte )(?<!beetje )\b(pijn|druk) (op|in|aan) (de|mijn|m'n|zijn"
        r"|haar) borst(?! (alleen )?(als|wanneer) (ik|hij|zij) (hoest|hoesten|adem|inadem))"
        r"|\bborstpijn|\bdrukkende pijn",
        r"\b(krijgt|heeft|krijg|heb|kreeg) (nu |net |waarschijnlijk "
        r"|volgens mij )?(een )?(beroerte|hartaanval|herseninfarct|hartstilstand|hersenbloeding)"
        r"|(beroerte|hartaanval|herseninfarct|hartstilstand|hersenbloeding) (heeft|krijgt)\b",
        r"\b(mond|gezicht) (hangt|staat) (\w+ )?(scheef|naar (één|een) kant)|scheve mond"
        r"|\bverlamd|\bhalve gezicht",
        r"\bkan (opeens |ineens |plotseling )?niet meer (praten|lopen|(zijn|haar) (arm"
        r"|been) bewegen)|\b(praat|spreekt) (ineens |opeens )?(onduidelijk|raar"
        r"|met dubbele tong)",
        r"\b(epileptische|epilepsie-?)aanval|\bstuip|\bkoortsstuip|\bschokt (over|met) (zijn"
        r"|haar|het) (hele )?lichaam",
        r"\baanval (\w+ ){0,2}(en )?(het )?stopt niet|\b(minuten|minuut) (lang )?een aanval"
        r"|\b(voelt|voel) (ineens |opeens |plotseling )?(zijn|haar|mijn) (linker|rechter)?(arm"
        r"|been|gezicht|kant)\w* (en \w+ )?niet meer",
        r"\b(tong|keel|lippen|gezicht) (en \w+ )?(zwelt|zwellen|zwol|zwollen) op"
        r"|\bkokende? (water|olie) (over|op)",
        r"\bvergiftig|\b(bleek|chloor|benzine|ontstopper|gootsteenontstopper|schoonmaakmiddel"
        r"|wasmiddel|afwasmiddel|lampolie|terpentine|rattengif|gif|wasbolletje|vaatwastablet"
        r"|knoopbatterij|batterij|medicijnen|pillen) [^.?!]{0,30}(gedronken|ingeslikt|geslikt"
        r"|opgegeten|binnengekregen)",
        r"\b(lippen|gezicht|hij|zij|ze|baby|kindje) (is|zijn|wordt|worden|ziet|zien|loopt|lopen"
        r"|kleurt) (helemaal )?blauw",
        r"\banafylact|\b(keel|tong) (zwelt|zit dicht|is opgezwollen)",
        r"\bbel (een|de) ambulance|ambulance (bellen|nodig|komen)",
        # fire and gas
        r"\b(staat|staan|stond) (\w+ ){0,2}in (brand|de fik)\b|\bin de fik\b|\bbrand (in"
        r"|bij) (ons|mijn|het|de) (huis|flat|keuken|gebouw|woning|trappenhuis)",
        r"\bhet brandt\b(?! (als|bij|wanneer|tijdens))|\brookmelder (gaat|piept|loopt) af"
        r"|\brookalarm (gaat|piept|loopt) af",
        r"\brook (komt|kwam) |\b(veel|dikke|zwarte) rook|\brook onder de deur|\boveral rook"
        r"|\bvol (met )?rook",
        r"\bruik gas|\bgaslucht|\bgaslek|\bontploffing|\bontploft",
    ),
    "en": (
        # suicide and self-harm
        r"\bsuicid",
        r"\bkill(ing)? (myself|my ?self|me ?self)|\btake my (own )?life"
        r"|\bend(ing)? (my (own )?life|it all)\b",
        r"\b(want|wanna|going|gonna|ready) to die\b|\bwish i (was|were) dead",
        r"\bdon'?t (really )?want to (live|be alive|be here any ?more|wake up|exist)",
        r"\bno (reason|point) (to|in) (live|living|go on|going on)|\bbetter off (dead|without me)",
        r"(?<!don't want to )(?<!do not want to )\b(cut|cutting|hurt|hurting|harm|harming|burn"
        r"|burning) myself|\bself[- ]harm",
        r"\bhang myself|\b(jump|jumping) (off|from|in front of|under) (a|the|my) (bridge|train"
        r"|roof|building|balcony|window)",
        r"\bwant (it|this|everything) (all )?to be over|\bwant it all to end"
        r"|\bwant everything to end",
        r"\bcan'?t (go on|take it|do this) any ?more",
        r"\bdone with (life|living)|\bnever wake up|\b(don'?t|not) wake up (tomorrow|again)"
        r"|\b(goodbye|farewell) (letter|message|note)|\blast (words|message)\b|\bsuicide note",
        r"\bthe rope is ready|\bbought a rope|\b(sav(ed|ing)( up)?|collect(ed|ing)"
        r"|stockpil\w+) (\w+ )?pills|\b(kill|hurt) (himself|herself|themselves)|\bcut (my|his"
        r"|her) wrists?",
        r"\bend(ing)? everything|\b(no reason|don'?t see any reason) to (stay|be) alive"
        r"|\bwhat'?s the point (of|in) living|\bstep in front of (the|a) train|\bwant to jump\b",
        r"\btook (a lot of|lots of|loads of) (pills|tablets)|\b(pills|tablets) on purpose",
        r"\boverdos",
        r"\b(took|taken|swallowed|had|drank|ate|going to take|gonna take) (\w+ ){0,1}(too many"
        r"|a whole (bottle|box|packet|pack|strip)( of)?|all (of )?(my|his|her"
        r"|the)) (\w+ ){0,2}(pills|tablets|paracetamol|painkillers|medicine|medication|meds)",
        # violence and threats, also at home
        r"\b(hits|hit|hitting|beats|beat|beating|kicks|kicked|kicking|punched|punches|punching"
        r"|slapped|slaps|choked|chokes|choking|strangled|strangles|strangling|stabbed|raped"
        r"|attacked|attacks|abuses|abused|abusing) (me|us|(my|his|her) (wife|mother|mum|mom|sister"
        r"|daughter|son|kids|children|child|baby))\b(?! out)",
        r"\b(been|was|got|is being|being) (stabbed|strangled|raped|shot|beaten up|attacked)",
        r"\bthreaten(s|ed|ing)? (\w+ ){0,3}(to (kill|hurt|stab|burn|shoot)|with a (knife|gun"
        r"|weapon))",
        r"\b(will|gonna|going to|'ll|wants to|want to|is going to) (kill|murder|hurt|stab"
        r"|shoot) (me|us|you|my|the kids|the children|her|him)\b",
        r"\b(with|has|holding|pulled|got|waving) (a|his|her|the) (knife|gun|weapon|pistol)",
        r"\bdomestic (violence|abuse)|\b(violent|abusive) (husband|partner|boyfriend|father|man"
        r"|ex)",
        r"\b(throw|threw|throwing) acid|\bacid (on|in|at) (my|her|your) face",
        r"\b(is|are|trying to) break(ing)? (in|down (our|my|the) door|our door|my door)"
        r"|\bsomeone is (in|inside) (my|our) (house|flat|home)",
        r"\bi'?m hiding (from|in)",
        r"\bbroke in\b|\bburn the house down|\b(sexually )?assaulted (me|us|my)"
        r"|\bsexually assaulted|\block(s|ed)? (me|us) (up|in)\b",
        r"\bstabbing people|\bshooting (in|at)|\b(they|he|she) (have|has) a gun"
        r"|\bfollowing me and threaten",
        # medical emergencies: breathing, consciousness, bleeding, chest, stroke, seizure, poison
        r"\b(can'?t|cannot|can not|couldn'?t) breathe|\b(isn'?t|is not|not|stopped|no longer"
        r"|hardly|barely) breathing",
        r"\bcan'?t get (any )?air|\bgasping for (air|breath)|\bchoking\b|\bstruggling to breathe",
        r"\bunconscious|\bunresponsive|\bpassed out|\bfainted|\bcollapsed|\bblacked out",
        r"\bno pulse|\b(isn'?t|not|stopped) (moving|waking up)|\bsend an ambulance"
        r"|\bfell (out of|from) (the|a) (window|balcony|roof|\w+ floor)",
        r"\b(vomiting|vomits) (\w+ )?blood|\bbleeding (very )?heavily|\blosing (a lot of"
        r"|lots of) blood|\bblood is spurting|\bspurting blood",
        r"\b(left|right) (arm|leg) won'?t move|\bcan'?t move (his|her|my) (left|right) side"
        r"|\b(speaks|speaking) gibberish|\btalk(s|ing)? strangely",
        r"\bboiling (water|oil) (over|on|all over)|\b(my|his|her) (tongue|throat|lips"
        r"|face) (and (tongue|throat|lips|face) )?(is |are )?swell(ing|s)",
        r"\b(carbon monoxide|co) alarm|\ba lot of smoke|\b(is|been|was|has been) fitting\b",
        r"\b(not|isn'?t|aren'?t|stopped) responding\b(?! to (my|our|the|his|her) (e-?mails?"
        r"|letters?|messages?|calls?|requests?|application))|\b(won'?t|can'?t|doesn'?t|does not"
        r"|will not) wake( up)?\b",
        r"\b(won'?t|doesn'?t|does not|will not|can'?t) stop bleeding|\bbleeding (a lot|heavily"
        r"|badly|so much|everywhere)|\b(heavy|severe|lots of|so much) (bleeding|blood)"
        r"|\b(coughing|vomiting|throwing) up blood|\bblood everywhere",
        r"\bpain (in|on) (my|his|her|the) chest|\bchest (pain|pains|tightness)|\bcardiac arrest",
        r"\b(having|has|is having|just had) a (heart attack|stroke)|\b(heart attack|stroke) (now"
        r"|right now)",
        r"\b(face|mouth|smile) (is )?(drooping|droops|hanging|crooked|lopsided)|\bslurr(ed|ing)",
        r"\b(can'?t|cannot) (lift|move|feel) (his|her|my) (arm|leg|face)|\b(one side|left side"
        r"|right side|half) of (his|her|my|the) (body|face)",
        r"\bsuddenly (can'?t|cannot) (speak|talk|see|walk)|\b(arm|face|side|leg) (is|went"
        r"|goes) (numb|weak|limp)",
        r"\bseizure\b(?! of)|\bconvuls|\b(epileptic|epilepsy) (fit|attack)|\bhaving a fit",
        r"(?<!food )\bpoison(ed|ing)?\b",
        r"\b(drank|swallowed|ate|eaten|drunk|swallowing) (\w+ ){0,2}(bleach|detergent|cleaning"
        r"|drain cleaner|battery|batteries|pills|tablets|poison|washing (tablet|pod|capsule)"
        r"|antifreeze|chemicals)",
        r"\b(turned|turning|is|are|went|gone|going) blue\b|\banaphyla|\bthroat (is )?(swelling"
        r"|closing)",
        r"\bcall (an|the) ambulance|\bneed an ambulance",
        # fire and gas
        r"\bon fire\b|\bcaught fire|\b(house|flat|kitchen|building|apartment|room"
        r"|car) (is )?(burning|ablaze)|\bfire in (the|my|our) (house|flat|kitchen|building"
        r"|apartment)",
        r"\bsmoke (is )?(coming|everywhere|under|filling)|\b(full of|lots of|thick|black) smoke"
        r"|\bsmoke alarm (is )?(going off|beeping|ringing)",
        r"\bsmell (of )?gas|\bsmells of gas|\bgas leak|\bexplosion|\bexploded",
    ),
}

_COMPILED = {
    language: re.compile(
        (AR_WORD_START if language == "ar" else "")
        + "(?:"
        # The patterns are normalised like the text, so they may be written in any spelling.
        + "|".join(f"(?:{normalize_text(fragment)})" for fragment in fragments)
        + ")"
    )
    for language, fragments in PATTERNS.items()
}


def normalise(text: str) -> str:
    """Lower case, Unicode NFKC, curly apostrophes straight, Arabic and Ge'ez spelling variants
    folded (as for the NLU model), one space between words."""
    folded = normalize_text(unicodedata.normalize("NFKC", text)).casefold().replace("’", "'")
    return " ".join(folded.split())


def matching_languages(text: str) -> list[str]:
    """The languages whose emergency patterns occur in `text` (empty: no emergency words)."""
    normalised = normalise(text)
    return [language for language, pattern in _COMPILED.items() if pattern.search(normalised)]


def looks_like_emergency(text: str | None) -> bool:
    return bool(text) and bool(matching_languages(text or ""))
