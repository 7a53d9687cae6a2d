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
        rf"({_AR_NOT})( عم)? (ي|ت)(رد|ستجيب)(?![{ARABIC_LETTER}])"
        rf"(?! (علي|عليا|عليي|علينا)(?![{ARABIC_LETTER}]))(?! (على|ع|عل) ?(ال)?(ايميل"
        rf"|رسال|طلب|تلفون|هاتف|اتصال|مكالم))",
        r"(ما|مو|مش)( عم)? (ي|ت)?فتح (عيونه|عيونها|عينه|عينها|عينيه|عينيها)",
        r"(وقع|وقعت|طاح|طاحت|سقط|سقطت|انهار|انهارت)( [^ ]+)? (فجاه|عالارض|على الارض|ع الارض|مغمي)",
        r"(وقع|وقعت|طاح|طاحت|سقط|سقطت) (من|عن) (الشباك|البلكون|البلكونه|السطح|الطابق)",
        r"نزيف(?! (لثه|اللثه|خفيف|بسيط|من (ال)?انف))"
        r"|(?<!اسناني )(?<!لثتي )(?<!اسناني ب)(?<!لثتي ب)[^ ]*(ينزف|تنزف)(?! من (ال)?انف)"
        r"(?! (شوي|شويه|قليل|شي بسيط))|(الدم"
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
        rf"({_AR_SWALLOW})( [^ ]+){{0,2}} (ال)?(كلور|كلوركس|مبيض|ديتول|مبيد|سم|بطاريه|منظف|فلاش"
        rf"|بنزين"
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
        # added 2026-12-07 from categories the development set showed missing (nlu/README.md)
        r"(يكسرون|بيكسرو|بيكسروا|عم يكسرو|عم يكسروا|كسرو|كسروا|يكسرو|يكسروا|يخلعو|يخلعون) (ال)?باب",
        _ar(r"(?:بن|ن|رح ن|راح ن|حن|بدنا ن)(?:ذبح|قتل)(?:كم|كن|ك|كي)"),
        r"(ع|عل|على |فوق )?(ال)?(جسر|سطح|شباك|بلكون|بلكونه|شرفه)( [^ ]+){0,4} (و)?(بدي|رح|راح|ح|ابي"
        r"|اريد|ناوي|ناويه) (انط|اقفز|ارمي|نط)",
        r"(حرقت|بحرق|جرحت|قطعت|ضربت|شطبت) (ايدي|يدي|دراعي|ذراعي|جسمي|حالي|نفسي|راسي|رجلي)"
        r"( [^ ]+){0,3} (عمدا|قصدا|عن قصد|بقصد|قاصد|قاصده|متعمد|متعمده)",
        r"(مع السلامه|وداعا|باي) يا (دنيا|حياه|عالم|ناس)|ودعولي|ودعوا لي|اخر رساله (مني|الي|لالي)",
        rf"({_AR_SWALLOW})( [^ ]+){{0,2}} ([0-9]{{2,}}|عشرين|تلاتين|ثلاثين|اربعين|خمسين) "
        rf"({_AR_DRUGS}|حبه|حبات|قرص|اقراص)",
        r"(عم تولد|رح تولد|بدها تولد|صارت تولد|قاعده تولد|بتولد) (هلا|هلق|الحين|هسه|الان|دلوقتي"
        r"|بالبيت)|نزيف بعد (الولاده|الوضع)",
        r"(اول )?اكسيد الكربون|(كاشف|جهاز|انذار) (ال)?غاز( [^ ]+)? (عم )?(يزمر|يصفر|يرن)",
        r"(الطنجره|المقلايه|الزيت|المطبخ|الفرن|الغاز)( [^ ]+){0,2} (ولع|ولعت|اشتعل|اشتعلت"
        r"|عم تولع|عم يولع|مسك نار|مسكت نار)",
        r"(حلقه|حلقها|حلقي|لسانه|لسانها|لساني) (انتفخ|انتفخت|منتفخ|منتفخه|منفخ|ورم|وارم|وارمه)",
        _ar(r"عم يغرق|عم تغرق|عم يغرقو|مكهرب|مكهربه|صعقه كهربا(ئ)?يه"),
        r"غرق[^ ]* (بال|في ال)(مي|ماي|بحر|مسبح|بركه|نهر|بانيو)",
        # Arabizi (Arabic in Latin letters, digits for letters)
        r"\bente?7ar|\b[ei]?(2|k)[ei]?t[eo]?l (7ali|nafsi)|\b(badd?|bd|nefs)(i|e) (a)?mo+u?t",
        r"\bma (3ad )?(badd?|bd)(i|e) (a)?3ee?sh|\bd[ae]rab(ni|na)\b|\by[eio]?drob(ni|na)\b"
        r"|\bbidrob(ni|na)\b",
        r"\by?hadd?[ae]d(ni|na)\b|\b(y|bi|ra7 y)?[ei]?(2|k)tol(ni|na)\b|\bma (3am |fini "
        r"|fiyi )?[yt]?[ei]?tnaff?as",
        r"\bma (3am )?[ty]fee2",
        r"\bbel sekk?een|\b7ari2\b",
        r"\b(ri(7|h)(e|a)t?|ri7a) (el |al |l)?(gh?az|8az|gas)\b",
        r"\b(ma3o|ma3ah|ma3ha|m3o|ma3a|7amel|hamel|7amil|shahar|shaher) (el |al |l)?(sek+(i|ee)n"
        r"|s[ei]k+in|s[ei]kina|msadas|musaddas|sla7|silah)",
        r"\b(akal|akalet|akalat|sharab|sharbet|sherbet|bala3|bal3at|akhad|akhadet|a5ad|a5adet"
        r"|5ad|5adet)( \w+){0,2} (kel|kol|kul|3elbet|3elbe|shreet|[0-9]{2,})( \w+){0,2} "
        r"(el |al )?(dawa|dwa|adwie|7boob|7bub|hboob|7ubub|pills|7ob)",
        r"\b(nazif|nazeef|nazf) (kteer|ktir|kbir|ma by?w?2af)|\bdamm? (kteer|ktir|kthir)\b",
        r"\b(mesh|mish|msh|mush|mo|ma) (3ayez|3ayza|3ayz|bde|badi|bidi|ader|2ader) (a|e)?3ee?sh\b",
        r"\b(7ari2|7aree2|hari2|nar) (bl|bel|fil|fel|b) ?(bet|beit|ma6ba5|matbakh|bina|binaye"
        r"|shaqa|sha2a)",
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
        # added 2026-12-07 from categories the development set showed missing (nlu/README.md)
        _ti(r"(እዚ|እዛ) ለይቲ ናይ መወዳእታ|ናይ መወዳእታ (ለይተይ|መልእኽተይ)|ንብረተይ( [^ ]+){0,2} (ሂበ|ዓዲለ|ሂበዮም)"),
        _ti(r"ርእሰይ( [^ ]+){0,6} (ሃሪመ|ሃሪመዮ|ወቒዐ|ወቒዐዮ)|(ኣእዳወይ|ኢደይ|ቅልጽመይ) (ቆሪጸ|ኣቃጺለ|ሓሪረ)"),
        _ti(r"ደም (ኣይዓገተን|ኣይዓገተትን|ኣይዓርፍን|ኣይዓረፈን|ኣይኣቋረጸን)|ድሕሪ ሕርሲ( [^ ]+)? ደም"),
        _ti(r"(ካብ|ኣብ) (ድልድል|ናሕሲ|ሰገነት|መስኮት)( [^ ]+){0,3} (ክዘልል|ክነጥር|ክወድቕ) (እየ|ደልየ|እደሊ)"),
        _ti(r"(ደቀይ|ንደቀይ|ኣደይ|ንኣደይ)( [^ ]+){0,2} ተንከብከቡለይ|ካራ (ኣርእዮምኒ|ኣርእዩኒ|ኣርእያትኒ)"),
        _ti(r"(ፈውሲ|ፈውሳ|ፈውሱ|ከኒና|መድሃኒት)[^ ]*( [^ ]+){0,2} ብሓንሳብ (ወሲዳ|ወሲዱ|ወሲደ|ውሒጣ|ውሒጡ|ውሒጠ)"),
        _ti(r"ክ(ት)?ተንፍስ (ይጽግመኒ|ይጽግሞ|ይጽግማ|ተጸጊመ)"),
        # Tigrinya in Latin letters
        r"\b(shita|sheta|shta) (gaz|gas)\b|\b(gaz|gas) (yifess|yfess|yeshetit|yshetit)",
        r"\b(kara|kare|bilawa) (hizu|hiza|hizom|hizuwo|aliu|awxiu|awtsiu)\b",
        r"\b(kinebir|kneber|kinebr|knebr) (aydelen|aydeleyen|aydeliyen|ay?delin)\b",
        r"\b(alkol|alcohol) (\w+ ){0,2}(ms|mis|mes) (kenina|medhanit)",
        r"\b(ay?i?tenefis(n|en)?|aytnefsn|ay?tnefis)\b|\btinfas (yeblun|yeblan|yeblen|yebleyn)",
        r"\b(kulu|kullu|bizuh|bzuh|buzuh) (kenina|medhanit|medhanitat|fewsi)( \w+){0,3} (wihitu"
        r"|wihita|wihite|wehitu|wesidu|wesida|wesde)",
        r"\b(yiwek'?uni|yweq'?uni|yiweqani|wekiuni|weqiuni|wekiuna)\b|\b(kimewit|kimut|kmewt|kmot)"
        r" (deleye|delye|ideli|edeli)\b",
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
        r"\b(krijg|krijgt|kreeg) (geen|bijna geen|nauwelijks) (lucht|adem)"
        r"|(?<!laat me )(?<!laat mij )(?<!laten me )(?<!laten mij )\bstik(t|ken|te)?\b"
        r"(?! (bijna )?van\b)"
        r"|ademhaling (stopt|is gestopt)",
        r"\bbewusteloos|buiten bewustzijn|\bflauw ?(gevallen|gevallen|valt|viel)"
        r"|\bkomt niet (meer )?bij\b|\bwordt niet (meer )?wakker",
        r"\breageert (niet|nergens) meer\b(?! op (mijn|m'n|de|onze|ons) (e-?mails?|brie(f|ven)"
        r"|bericht(en)?|bezwaar|aanvraag|mail|vragen))",
        r"\ben reageert (niet|nergens)\b|\breageert niet (meer )?op (aanspreken|pijn|ons|mij"
        r"|zijn naam|haar naam)\b|\bgeen (hartslag|pols)",
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
        # added 2026-12-07 from categories the development set showed missing (nlu/README.md)
        r"\b(sla|bonk|bons|sloeg) (mijn|m'n) hoofd (\w+ )?tegen (de|een) muur",
        r"\bom (de )?pijn te voelen\b",
        r"\bvliegt in (de )?brand|\bvlam in de pan|\bpan (staat|vloog) in (de )?brand",
        r"koolmonoxidevergiftiging|\b(co|koolmonoxide)[- ]?(melder|alarm) (\w+ )?(gaat|ging) af"
        r"|\b(co|koolmonoxide)[- ]?(melder|alarm) (\w+ )?(piept|loeit)",
        r"\b(is|ben) (nu )?(thuis )?aan het bevallen|\b(baby|het kind|het kindje) komt (er )?(nu"
        r"|eraan)\b|\bvliezen (zijn )?(gebroken|gesprongen)",
        r"\b(paddenstoelen|bessen|paddo'?s)( \w+){0,3} (gegeten|opgegeten|ingeslikt)",
        r"\b(\d{2,}|twintig|dertig|veertig|vijftig) (\w+ )?(pillen|tabletten|paracetamol"
        r"|slaappillen|pijnstillers|oxazepam|ibuprofen)( \w+){0,2} (ingenomen|geslikt|genomen)",
        r"\b(expres|met opzet|opzettelijk) (\w+ ){0,3}(gebrand|gesneden|gekrast|verbrand|pijn"
        r" gedaan)",
        r"\b(sta|zit|staan|ben) (op|bovenop) (de|het|een) (brug|dak|rand|balkon)( \w+){0,5} "
        r"(springen|spring)",
        r"\bverdrink(t|en)?\b(?! (bijna )?in (de |het |al die |mijn |m'n )?(papieren|papierwerk"
        r"|brieven|schulden|rekeningen|werk|formulieren))|\b(stroomstoot|geëlektrocuteerd|geelektrocuteerd)"
        r"|\bonder stroom (gestaan|gekomen)",
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
        # added 2026-12-07 from categories the development set showed missing (nlu/README.md)
        r"\bthis is (my )?(goodbye|farewell)\b|\bmy last (message|goodbye)\b|\bto feel the pain\b",
        r"\bcarbon monoxide (poisoning|alarm|detector)|\bco (alarm|detector) (is )?(going off"
        r"|beeping|went off)",
        r"\b(is|am) (giving birth|in labou?r)\b|\bbaby is coming\b|\b(my|her) waters? (has |have )?"
        r"broken",
        r"\b(took|taken|swallowed|ate) (\d{2,}|twenty|thirty|forty|fifty|all (my|the|his|her)"
        r"|a (whole|full) (box|bottle|pack|strip) of) (\w+ ){0,2}(pills|tablets|paracetamol"
        r"|ibuprofen|painkillers|sleeping pills|oxycodone|insulin)",
        r"\b(ate|eaten|swallowed) (\w+ ){0,2}(mushrooms|berries)",
        r"\b(burn(ed|t)?|cut|hurt|hit|scratch(ed)?|stab(bed)?) (my ?self|my (arm|arms|wrist"
        r"|wrists|leg|legs|skin|head))( \w+){0,3} (on purpose|deliberately)",
        r"\b(standing|stand|i'?m|sitting) on (the|a) (bridge|roof|ledge|edge)\b( \w+){0,6} "
        r"(jump|end it|let go)",
        r"\b(breaking|kicking|trying to break) (down |in )?(the|my|our) door",
        r"\b(he|she|they|someone|somebody|a man|my (husband|ex|father|brother|son|neighbou?r))"
        r" (has|have|got|is holding|is waving|came with) (a|an|his|her) (knife|gun|machete)\b"
        r"(?! (collection|set|block))",
        r"\bdrowning\b(?! in (papers?|paperwork|debts?|bills|letters|forms|work))"
        r"|\belectric(al)? shock|\belectrocuted|\bfell (from|off) (the|a) (roof"
        r"|balcony|window|ladder)",
    ),
}

# Words that place what a phrase names outside the present: long ago ("last year", "two years
# ago", "in 2022"), over ("but it went away", "now he is fine"), or denied ("I am not in
# danger", "no thoughts of hurting myself"). They do not cancel a phrase: the bot then asks
# whether anyone is in danger now (nlu/danger.py), with 112 in the question, and Rasa may
# still find it urgent. Words that could describe a present emergency ("yesterday", "an hour
# ago", "has stopped" — as in breathing) are deliberately not here.
NOT_NOW: dict[str, tuple[str, ...]] = {
    "ar": (
        r"(ال)?(سنه|عام|شهر|صيف|شتا|شتاء) (الماضي|الماضيه|اللي فات|اللي فاتت|الفايت|الفاته"
        r"|المنصرم)",
        r"(قبل|من) (سنه|سنتين|سنين|سنوات|شهرين|شهور|اشهر|اسبوع|اسبوعين|كم سنه|كم شهر"
        r"|[0-9]+ (سنه|سنين|سنوات|شهور|اشهر|اسابيع)"
        r"|(تلات|ثلاث|اربع|خمس) (سنين|سنوات|شهور|اشهر|اسابيع))",
        r"(ما هي|شو هي|ايش|شنو|ما) (علامات|اعراض)",
        r"(في|ب)(ال)?ماضي|زمان|(لما|عندما) كنت (صغير|صغيره|طفل|طفله)"
        r"|(سكته|جلطه)( دماغيه| قلبيه)? (قديمه|سابقه)",
        # figurative: a letter, a bill or a form "is killing me"
        r"(رساله|الرساله|هالرساله|المكتوب|هالمكتوب|خطاب|الخطاب|هالخطاب|جواب|الجواب|هالجواب"
        r"|ورق|الورق|هالورق|اوراق|الاوراق|فاتوره"
        r"|الفاتوره|الفواتير|الاجار|الايجار|الديون|الدين|الامتحان|الضرايب|الضرائب|الاستماره"
        r"|الاستمارات|البيروقراطيه|البنك|الفوايد|الفوائد)( [^ ]+){0,5} (عم |رح |راح |قاعد |قاعده )?"
        r"(ت|ي|بت|بي|حت|حي)?(قتل|موت|جنن|ذبح|خنق)(ني)",
        # a question about the family's history
        r"(في|ب)?(عائلتك|عيلتك|اهلك|اقاربك)",
        r"(قتلني|ذبحني|موتني|رح يموتني) (ال)?(انتظار|استنا|تعب|قهر|هم|ملل|زهق|شغل)"
        r"|(المدير|مديري|الاستاذ|الاستاذه|المعلم|المعلمه|صاحب الشغل)( [^ ]+)? (رح |راح |ح|بدو )?"
        r"(ي|بي)?(ذبح|قتل)ني",
        r"(بس|لكن|و) ?(هلا|هلق|هلأ|الحين|هسه|هسا|دلوقتي|الان)? ?(راح|راحت|خف|خفت|خلص|خلصت"
        r"|انتهي|انتهت|زال|زالت)",
        r"(هلا|هلق|هلأ|الحين|هسه|هسا|دلوقتي|الان) (صار|صارت|صرت|هو|هي|انا)? ?(منيح|منيحه|بخير"
        r"|كويس|كويسه|زين|زينه|احسن|تمام|مليح|مليحه)",
        r"(ما|مش|مو|لست|ماني|مانو|ليس)( [^ ]+)? (في|ب) ?خطر|(ما|مش|مو|لا|ليس) (عندي|لدي|في)"
        r" (افكار|فكره|نيه|تفكير)",
        r"(ما|مش|مو|لا) (بدي|ابي|اريد|عايز|عايزه|بفكر|افكر)( [^ ]+)? (اذي|اوذي|ايذاء|اذيه|اقتل"
        r"|انتحر)",
    ),
    "ti": (
        _ti(r"ዓሚ|ቅድሚ (([0-9]+|ሓደ|ክልተ|ሰለስተ|ኣርባዕተ|ሓሙሽተ|ብዙሕ|ገለ) ?)?(ዓመት|ዓመታት|ኣዋርሕ|ወርሒ)"),
        _ti(r"(ኣብ )?(ዝሓለፈ|ዝሓለፋ) (ዓመት|ዓመታት|ወርሒ|ኣዋርሕ|ክረምቲ|ሓጋይ)|ብንእሽቶይ|ኣብ ቁልዕነተይ"),
        # "ደሓን ኩኑ" (stay well) ends a farewell message: "fine" counts only as "I am / it is fine".
        _ti(
            r"(ግን|ሕጂ) (ሕጂ )?(ሓሊፉ|ሓሊፋ|ሓሊፎም|ጠፊኡ|ጠፊኣ|ኣቋሪጹ|ሓውዩ|ሓውያ)|ሕጂ (ሓውዩ|ሓውያ|ሓውየ)"
            r"|ሕጂ (ደሓን|ጽቡቕ) (እየ|ኣለኹ|ኣሎ|ኣላ|ኢና|ኣለና|ኣሎ)"
        ),
        _ti(r"(ሓደጋ|ሓደጋ ኣብ) (የለን|የለኹን|የብለይን|ኣይኮንኩን)|ኣብ ሓደጋ ኣይኮንኩን|ሕጂ ደው (ኢሉ|ኢላ)|ከም ካራ"),
        _ti(r"(ስነይ|ስኒ|ርእሰይ|ከብደይ|ሕቖይ)( [^ ]+){0,2} (ይቐትለኒ|ክቐትለኒ)"),
        _ti(r"(ክጎድእ|ክቐትል|ከጥፍእ)( [^ ]+)? (ሓሳብ|ድሌት|ሓሳብ ዋላ) (የብለይን|የለን|የብሉን)"),
        # figurative: a letter, a bill or a form "is killing me"
        _ti(
            r"(ደብዳቤ|ደብዳበ|ወረቐት|ቅጥዒ|ሕሳብ|ዕዳ|ክራይ|ፈተና|ምጽባይ|ፎርም|ፎርማት)[^ ]*( [^ ]+){0,4} "
            r"(ይቐትለኒ|ክቐትለኒ|ቀቲሉኒ|ይሓንቀኒ"
            r"|የሕብደኒ|ኣሕቢዱኒ)"
        ),
    ),
    "nl": (
        r"\bvorig(e)? (jaar|maand|week|zomer|winter|keer)\b|\b(jaren|maanden|weken) geleden\b",
        r"\b(\d+|een|één|twee|drie|vier|vijf|paar) (jaar|jaren|maand|maanden|week|weken) geleden",
        r"\bvroeger\b|\bin (19|20)\d\d\b|\btoen ik (klein|jong|kind)|\bin het verleden\b",
        r"\b(maar|en) (nu )?(is het|het is|het was|het ging|ging het|is hij|is ze) (weer )?"
        r"(weg|over|voorbij|beter|overgegaan)",
        r"\b(nu|inmiddels) (gaat het|is het|is hij|is ze|ben ik|zijn we) (weer )?(goed|beter|over"
        r"|oké|oke|ok|clean|fit)",
        r"\b(bent|heeft|was|had|is) (u|je|jij|hij|zij|ze) ooit\b"
        r"|\b(niet|geen) (in )?gevaar\b|\bniet (suïcidaal|suicidaal)|\bgeen (plannen|gedachten|"
        r"neiging) (om|aan|over)|\bwil (mezelf|mijzelf) (niks|niets|geen pijn)",
        # figurative: a letter, a bill or a form "is killing me"
        r"\b(brief|brieven|formulier|formulieren|rekening|rekeningen|schuld|schulden|huur|papieren"
        r"|belasting|examen|bureaucratie)\b( \w+){0,5} (maakt|maken|gaat|gaan) (me|mij) "
        r"(kapot|dood|gek)|\b(mijn hoofd|m'n hoofd) (ontploft|explodeert)",
    ),
    "en": (
        r"\blast (year|month|week|summer|winter|spring|autumn)\b|\b(years|months|weeks) ago\b",
        r"\b(\d+|a|one|two|three|four|five|few|couple of) (years?|months?|weeks?) ago\b",
        r"\bin (19|20)\d\d\b|\bwhen (i|he|she|we|they) (was|were) (a |an )?(child|kid|teenager"
        r"|young|little|student)\b|\bin the past\b"
        r"|\bused to\b|\bback then\b",
        r"\b(but|and) (now )?(it|the pain|he|she)('?s| is| was| has| went| goes) ?(gone|over|away"
        r"|better|fine|ok|okay|stopped|passed)|\b(it|the pain) (stopped|went away|goes away|passed)"
        r"|\bnow (i'?m|i am|he'?s|he is|she'?s|she is|we are|everything is|all is) (fine|ok"
        r"|okay|better|good|clean)",
        r"\b(not|no longer|never been) (in danger|suicidal)|\bno (thoughts|plans|intention)"
        r" (of|to|about)|\b(not|never) (thinking|thought) (of|about) (hurting|harming|killing)"
        r"|\b(don'?t|do not) (want|plan|intend) to (hurt|harm|kill) (myself|me)"
        r"|\b(don'?t|do not) feel in danger",
        r"\b(that|which) (went away|stopped|passed)\b|\b(but )?i'?m (fine|ok|okay|better) now\b"
        r"|\b(have|has|did) (you|he|she|they) ever\b|\bwhen was (your|his|her|the) last\b",
        r"\b(few|couple of|two|three|four|five|\d+) days ago\b|\bnow i (feel|am|'m) (ok|okay|fine"
        r"|better)\b|\blike a knife\b|\b(tooth|teeth|head|back|stomach) is killing me\b",
        r"\b(have|has|had) (you|he|she) (\w+ ){0,2}before\b|\bis the (chest )?pain (there|worse"
        r"|better)|\bdoes (the|your) (chest )?pain\b|\b(old|past) (self-harm|scars)",
        # figurative: a letter, a bill or a form "is killing me"
        r"\b(letter|letters|form|forms|bill|bills|paperwork|rent|debt|debts|exam|taxes"
        r"|bureaucracy)\b( \w+){0,5} (is|are|will be|'s|'re) (killing|going to kill) (me|us)"
        r"|\bthe death of me\b|\b(brain|head) is on fire\b"
        r"|\bdying to (know|hear|see|get)|\bmy head (is )?(exploding"
        r"|explodes|will explode)",
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


_NOT_NOW_COMPILED = re.compile(
    "|".join(
        f"(?:{(AR_WORD_START if language == 'ar' else '') + normalize_text(fragment)})"
        for language, fragments in NOT_NOW.items()
        for fragment in fragments
    )
)


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


def says_not_now(text: str | None) -> bool:
    """Whether `text` places what it tells in the past, says it is over, or says there is no
    danger (`NOT_NOW`): then an emergency phrase in it is a question to ask, not an alarm."""
    return bool(text) and bool(_NOT_NOW_COMPILED.search(normalise(text or "")))
