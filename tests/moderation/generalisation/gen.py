"""Generalisation cases written for the moderation rules (not from the corpus): contact details
in many obfuscation families with random fills, hand-written variants (handwritten.txt), and
benign look-alikes. Writes cases.jsonl next to this script. Run: python3 gen.py"""
import json, random
R = random.Random(7)
out = []
def add(text, labels, family, role=None, conv=None):
    out.append({"id": f"dv-{len(out):04d}", "text": text, "sender_role": role or R.choice(["student", "mentor"]),
                "conversation": conv, "labels": labels, "spans": [], "family": family})

NPA = [201,202,203,205,206,207,208,209,210,212,213,214,215,216,217,218,219,224,225,228,229,231,234,236,239,240,248,250,251,252,253,254,256,260,262,267,269,270,276,281,289,301,302,303,304,305,306,307,308,309,310,312,313,314,315,316,317,318,319,320,321,323,325,330,331,334,336,337,339,343,347,351,352,360,361,365,385,386,401,402,403,404,405,406,407,408,409,410,412,413,414,415,416,417,418,419,423,424,425,430,431,432,434,435,437,438,440,442,443,450,458,469,470,475,478,479,480,484,501,502,503,504,505,506,507,508,509,510,512,513,514,515,516,517,518,519,520,530,539,540,541,548,551,559,561,562,563,567,570,571,573,574,575,579,580,581,585,586,587,601,602,603,604,605,606,607,608,609,610,612,613,614,615,616,617,618,619,620,623,626,628,629,630,631,636,639,641,646,647,650,651,657,660,661,662,667,669,678,681,682,701,702,703,704,705,706,707,708,709,712,713,714,715,716,717,718,719,720,724,725,727,731,732,734,737,740,747,754,757,760,762,763,765,769,770,772,773,774,775,778,779,780,781,782,785,786,801,802,803,804,805,806,807,808,810,812,813,814,815,816,817,818,819,825,828,830,831,832,843,845,847,848,850,856,857,858,859,860,862,863,864,865,867,870,872,873,878,901,902,903,904,905,906,907,908,909,910,912,913,914,915,916,917,918,919,920,925,928,929,930,931,936,937,938,940,941,947,949,951,952,954,956,959,970,971,972,973,978,979,980,984,985,989]
W = "zero one two three four five six seven eight nine".split()
WO = ["oh" if d == 0 else W[d] for d in range(10)]
def nanp():
    return [int(c) for c in f"{R.choice(NPA)}55501{R.randint(0,99):02d}"]
def uk():
    return [int(c) for c in R.choice(["07700900", "02079460", "01134960", "01174960", "01214960", "01314960", "01614960"]) + f"{R.randint(0,999):03d}"][:11]
def ds(d): return "".join(map(str, d))
def grp(d):
    s = ds(d)
    return (s[:3], s[3:6], s[6:]) if len(s) == 10 else (s[:5], s[5:], "")
FULL = dict(zip("0123456789", "０１２３４５６７８９"))
ENC = dict(zip("0123456789", "⓪①②③④⑤⑥⑦⑧⑨"))
DENC = dict(zip("0123456789", "⓿❶❷❸❹❺❻❼❽❾"))
MATH = dict(zip("0123456789", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"))
MONO = dict(zip("0123456789", "𝟶𝟷𝟸𝟹𝟺𝟻𝟼𝟽𝟾𝟿"))
LEET = {"zero": ["zer0", "z3ro"], "one": ["0ne", "on3"], "two": ["tw0"], "three": ["thr33", "thre3"], "four": ["f0ur", "fou4"], "five": ["f1v3", "fiv3"], "six": ["s1x", "$ix"], "seven": ["s3v3n", "sev3n"], "eight": ["e1ght", "31ght"], "nine": ["n1n3", "nin3"], "oh": ["0h"]}
HOMO = {0: ["o", "oh"], 1: ["won", "one"], 2: ["too", "to"], 4: ["for", "fore"], 8: ["ate", "eight"]}
SUB = {"0": "oO", "1": "lI", "2": "Z", "5": "sS", "8": "B"}
def fmt(d, style):
    s = ds(d); a, b, c = grp(d)
    if style == "dashed": return f"{a}-{b}-{c}"
    if style == "dotted": return f"{a}.{b}.{c}"
    if style == "spaced": return f"{a} {b} {c}"
    if style == "parens": return R.choice([f"({a}) {b}-{c}", f"({a}){b}-{c}", f"({a}) {b} {c}", f"({a}).{b}.{c}"])
    if style == "compact": return s
    if style == "slash": return f"{a}/{b}/{c}"
    if style == "under": return f"{a}_{b}_{c}"
    if style == "dbl": return f"{a}--{b}--{c}"
    if style == "singles": return R.choice([" ".join(s), f"{' '.join(a)}  {' '.join(b)}  {' '.join(c)}", ".".join(s), "-".join(s)])
    if style == "words": return R.choice([" ".join(WO[x] for x in d), ", ".join(" ".join(WO[int(x)] for x in g) for g in (a, b, c)), " - ".join(" ".join(W[int(x)] for x in g) for g in (a, b, c))])
    if style == "hyph": return " ".join("-".join(WO[int(x)] for x in g) for g in (a, b, c))
    if style == "leet": return " ".join(R.choice(LEET.get(WO[x], [WO[x]])) for x in d)
    if style == "homo": return " ".join(R.choice(HOMO.get(x, [W[x]])) for x in d)
    if style == "mixed": return " ".join(str(x) if R.random() < .5 else WO[x] for x in d)
    if style == "double":
        toks = []; i = 0
        while i < len(d):
            if i + 2 < len(d) and d[i] == d[i+1] == d[i+2]: toks.append("triple " + W[d[i]]); i += 3
            elif i + 1 < len(d) and d[i] == d[i+1]: toks.append("double " + WO[d[i]]); i += 2
            else: toks.append(WO[d[i]]); i += 1
        return " ".join(toks)
    if style == "full": return "".join(FULL.get(x, x) for x in R.choice([s, f"{a}-{b}-{c}", f"({a}){b}-{c}"]))
    if style == "enc": m = R.choice([ENC, DENC]); return R.choice(["".join(m[x] for x in s), " ".join("".join(m[x] for x in g) for g in (a, b, c))])
    if style == "math": m = R.choice([MATH, MONO]); return "".join(m.get(x, x) for x in R.choice([s, f"{a}-{b}-{c}", f"{a} {b} {c}"]))
    if style == "keycap": return R.choice(["", " "]).join(x + "\ufe0f\u20e3" for x in s)
    if style == "zw": return "".join(x + (R.choice(["\u200b", "\u200d", "\u2060"]) if R.random() < .4 else "") for x in f"{a}-{b}-{c}")
    if style == "subst": return "".join(R.choice(SUB[x]) if x in SUB and R.random() < .5 else x for x in R.choice([f"{a}-{b}-{c}", s, f"{a}.{b}.{c}"]))
    if style == "intl": return R.choice([f"+1 {a}-{b}-{c}", f"+1 ({a}) {b}-{c}", f"1-{a}-{b}-{c}", f"+1{s}", f"+1.{a}.{b}.{c}"])
    raise ValueError(style)
PTPL = ["my number is {}", "text me {} tonight", "{} is my cell", "call me at {} after practice", "here: {}", "my cell {} dont share it", "{} <- thats me", "reach me on {} ok", "new phone who dis lol {}", "hmu {}", "my mom's phone is off limits but mine is {}", "{} (my cell)", "save my number {} 🙂", "ring me {}", "{} call or text", "u can whatsapp me {}", "digits: {}", "contact me on {} if the site is down", "its {} just text", "add {} to ur contacts"]
for style in ["dashed", "dotted", "spaced", "parens", "compact", "slash", "under", "dbl", "singles", "words", "hyph", "leet", "homo", "mixed", "double", "full", "enc", "math", "keycap", "zw", "subst", "intl"]:
    for _ in range(6):
        add(R.choice(PTPL).format(fmt(nanp(), style)), ["contact_info"], "ph_" + style)
for _ in range(8):
    d = uk(); s = ds(d)
    add(R.choice(PTPL).format(R.choice([s, f"{s[:5]} {s[5:]}", f"+44 {s[1:5]} {s[5:]}", f"+44 (0){s[1:5]} {s[5:]}", f"{s[:3]} {s[3:7]} {s[7:]}", f"+44{s[1:]}"])), ["contact_info"], "ph_uk")
# glued
for _ in range(6):
    d = nanp(); add(R.choice(["mynumis{}", "cell:{}!!", "txt{}pls", "phone→{}", "num={}", "#{} is me"]).format(R.choice([ds(d), fmt(d, "dashed")])), ["contact_info"], "ph_glued")
# vanity numbers
for v in ["1-800-FLOWERS", "1-800-GOT-JUNK", "call 1 800 CONTACTS", "my line is 555-CODE", "text me at 403-555-CHAD", "1-888-MY-TUTOR is my business line", "call 1-800-555-HELP", "my number spells 778-555-CATS lol", "ring 1 (800) 356-9377 haha", "ring (647) 55-JAMIE"]:
    add(v, ["contact_info"], "ph_vanity")

FIRST = ["maya", "liam", "zara", "omar", "nadia", "kenji", "priya", "lucas", "sofia", "ethan", "amara", "diego", "hana", "jonah", "ines", "tariq"]
LAST = ["chen", "okafor", "rossi", "nguyen", "haddad", "patel", "kowalski", "macleod", "reyes", "smith", "tremblay", "ali"]
PROV = ["gmail.com", "yahoo.com", "yahoo.ca", "outlook.com", "hotmail.com", "hotmail.co.uk", "icloud.com", "proton.me", "protonmail.com", "aol.com", "live.com", "shaw.ca", "rogers.com", "telus.net", "gmx.net", "btinternet.com", "mail.com", "sympatico.ca", "me.com", "ymail.com"]
def local():
    f, l = R.choice(FIRST), R.choice(LAST)
    return R.choice([f"{f}.{l}", f"{f}_{l}", f"{f}{l}{R.randint(1,99)}", f"{f}.{l[0]}{R.randint(1,30)}", f"the.{f}.{l}", f"{f}_codes", f"{f}builds", f"{f[0]}{l}"])
ETPL = ["my email is {}", "email me at {}", "{} is my personal email", "send it to {} instead", "write me: {}", "{} ← my email", "here's my addy {} lol", "contact: {}", "u can mail me {}", "my other email {} dont tell anyone"]
def efmt(style):
    lo = local(); p = R.choice(PROV); dom, _, tld = p.partition(".")
    if style == "plain": return f"{lo}@{p}"
    if style == "words": return R.choice([f"{lo.replace('.', ' dot ')} at {dom} dot {tld.replace('.', ' dot ')}", f"{lo} AT {dom.upper()} DOT {tld.upper().replace('.', ' DOT ')}", f"{lo} at {dom} dot {tld}"])
    if style == "brackets": return R.choice([f"{lo}[at]{dom}[dot]{tld}", f"{lo} (at) {dom} (dot) {tld}", f"{lo}{{at}}{dom}{{dot}}{tld}", f"{lo} [@] {dom}[.]{tld}", f"{lo}<at>{dom}<dot>{tld}"])
    if style == "spaced": return R.choice([f"{lo} @ {dom} . {tld}", " ".join(lo) + f" @ {p}", f"{lo} @ {p}"])
    if style == "full": return "".join(chr(ord(c) + 0xFEE0) if 33 <= ord(c) < 127 else c for c in f"{lo}@{p}")
    if style == "homo": return f"{lo}@{p}".replace("o", "о", 1).replace("a", "а", 1).replace("e", "е", 1)
    if style == "leet": return f"{lo}@{p}".replace("o", "0").replace("e", "3").replace("@", R.choice([" 4t ", "@", " at "])).replace(".", R.choice([" d0t ", " d07 ", "."]), 2)
    if style == "notld": return R.choice([f"{lo}@{dom}", f"{lo} at {dom}", f"{lo} @ {dom}"])
    if style == "zw": return "".join(c + ("\u200b" if R.random() < .25 else "") for c in f"{lo}@{p}")
    raise ValueError(style)
for st in ["plain", "words", "brackets", "spaced", "full", "homo", "leet", "notld", "zw"]:
    for _ in range(7):
        add(R.choice(ETPL).format(efmt(st)), ["contact_info"], "em_" + st)

def handle():
    f = R.choice(FIRST)
    return R.choice([f"{f}_codes", f"{f}.builds", f"real{f}", f"{f}{R.randint(2,99)}", f"x{f}x", f"{f}.{R.choice(LAST)}", f"its{f}", f"{f}_{R.choice(LAST)}_"])
PLAT = ["snap", "snapchat", "insta", "instagram", "ig", "discord", "disc", "tiktok", "tt", "telegram", "kik", "whatsapp", "twitter", "x", "roblox", "xbox", "psn", "steam", "reddit", "threads", "bereal", "twitch", "signal", "wechat", "line", "skype"]
HTPL = ["my {p} is {h}", "add me on {p}: {h}", "{p}: {h}", "{h} on {p}", "follow me on {p} @{h}", "{p} {h} 🙂", "find me on {p}, {h}", "hmu on {p} {h}", "my {p} @{h}", "{h} is my {p}", "{p} @{h} add me", "im {h} on {p}", "add {h} on {p} lol", "{p} = {h}", "dm me on {p} its {h}"]
for _ in range(60):
    add(R.choice(HTPL).format(p=R.choice(PLAT), h=handle()), ["contact_info"], "handle_plat")
for _ in range(8):
    add(f"{R.choice(['add me', 'friend me', ''])} {handle()}#{R.randint(1000,9999)}".strip(), ["contact_info"], "handle_discord")
for _ in range(8):
    add(f"{R.choice(['👻', '📸', '📱', '🎮'])} {handle()}", ["contact_info"], "handle_emoji")
for _ in range(8):
    add(R.choice(["dm me @{}", "@{} is me", "add @{}", "msg @{} there"]).format(handle()), ["contact_info"], "handle_at")
for h in ["my snap is m a y a _ c h e n", "insta: z.a.r.a.codes", "sc: l i a m b u i l d s", "my ig is nadia(dot)codes", "my snap is priya​_​codes", "add me on 𝓈𝓃𝒶𝓅 hana_builds", "snappy: kenji.dev", "s n a p: omar22", "my s.n.a.p is diego_x", "find me on the gram @sofia.makes", "my insta is ⓜⓐⓨⓐ_codes"]:
    add(h, ["contact_info"], "handle_obf")

SITES = ["makes", "builds", "codes", "lab", "zone", "hub", "world", "space"]
TLD = ["com", "net", "org", "io", "ca", "co", "dev", "xyz", "site", "online", "me", "app", "co.uk", "info", "blog", "tech", "page", "link", "gg", "ly"]
def dom(): return f"{R.choice(FIRST)}{R.choice(SITES)}.{R.choice(TLD)}"
UTPL = ["check out {}", "my site is {}", "{} has my contact stuff", "we can talk at {} no mods there", "bookmark {}", "go to {} and msg me", "{} ← my portfolio", "here's my page {}"]
for _ in range(12): add(R.choice(UTPL).format(dom()), ["contact_info"], "url_bare")
for _ in range(10): add(R.choice(UTPL).format(R.choice(["https://", "http://", "www.", "https://www."]) + dom() + R.choice(["", "/contact", "/me", "/p/123", "/links?ref=1"])), ["contact_info"], "url_full")
for _ in range(10):
    d = dom(); n, _, t = d.partition(".")
    add(R.choice(UTPL).format(R.choice([f"{n} dot {t}", f"{n} . {t}", f"{n}[.]{t}", f"{n}(dot){t}", f"hxxps://{n}[.]{t}", f"{n} d0t {t}", f"{n}․{t}", f"{n} DOT {t.upper()}"])), ["contact_info"], "url_obf")
for u in ["bit.ly/3xYz9Q", "tinyurl.com/y7abcd", "t.co/AbC123", "is.gd/xyz12", "rb.gy/k9x2", "cutt.ly/Qw3rT", "shorturl.at/aBc12", "tiny.cc/m0ar", "ow.ly/Zz9"]:
    add(f"{R.choice(['click', 'link:', 'here', 'pics here'])} {u}", ["contact_info"], "url_short")
for u in ["discord.gg/AbCd12", "chat.whatsapp.com/Hj3kL9mN", "t.me/priya_codes", "wa.me/14165550123", "zoom.us/j/98765432101", "meet.google.com/abc-defg-hij", "instagram.com/zara.codes", "tiktok.com/@liam_builds", "snapchat.com/add/kenji22", "twitter.com/omarx", "facebook.com/nadia.rossi.7", "linktr.ee/sofiaxo", "youtube.com/@hanamakes", "twitch.tv/diegoplays", "reddit.com/u/ethan_codes", "github.com/jonah-builds", "m.me/ines.patel", "ig.me/m/tariq", "teams.microsoft.com/l/meetup-join/19abc", "join.skype.com/AbCdEf"]:
    add(R.choice(["{}", "join {}", "add me {}", "my profile {}", "{} lol"]).format(u), ["contact_info"], "url_social")
# IDN
for u in ["mäyä-codes.de", "café-liam.com", "https://münchen-maker.de/kontakt", "zürich-lab.ch/me", "www.straße-code.de", "пример.рф", "https://例え.jp", "ñandú-club.com.ar", "http://xn--mnchen-3ya.de/x", "kenji.みんな"]:
    add(R.choice(["check out {}", "my site {}", "{} has my info"]).format(u), ["contact_info"], "url_idn")

STREETS = ["maple", "oak", "cedar", "elm", "pine", "birch", "willow", "lakeview", "harbour", "spring garden", "king", "queen", "church", "mill", "river", "hillcrest", "sunset", "park", "college", "victoria", "highland", "meadow", "forest", "baker", "ashgrove", "tuxedo", "kensington", "parkdale", "riverside", "fairview"]
TYPES = ["St", "Street", "Ave", "Avenue", "Rd", "Road", "Blvd", "Dr", "Drive", "Lane", "Ln", "Crescent", "Cres", "Court", "Ct", "Way", "Place", "Pl", "Terrace", "Close", "Circle", "Trail", "Parkway", "Grove", "Gardens", "Row", "Square", "Heights", "Hill", "View", "Point", "Green"]
CITY = ["Calgary AB T2P 1J9", "Toronto ON M5V 2T6", "Halifax NS B3H 4R2", "Seattle WA 98101", "Austin TX 78701", "Denver, CO 80202", "Leeds LS1 4AP", "Manchester M1 1AE", "Bristol BS1 5TR", "Winnipeg MB R3C 0V8"]
ATPL = ["i live at {}", "my address is {}", "{} come by anytime", "send it to {}", "ship it to {} pls", "we moved to {}", "drop it at {}", "mail it to {} thx", "{} is my house", "im at {} if u wanna hang"]
for _ in range(14):
    a = f"{R.randint(2,9999)} {R.choice(['', 'N ', 'S ', 'E ', 'W '])}{R.choice(STREETS).title()} {R.choice(TYPES)}"
    if R.random() < .5: a += ", " + R.choice(CITY)
    add(R.choice(ATPL).format(a), ["contact_info"], "addr_typed")
for _ in range(10):
    a = f"{R.randint(2,999)} {R.choice(STREETS)} {R.choice(['', 'ne', 'sw', 'nw', 'se'])}".strip()
    add(R.choice(ATPL).format(a), ["contact_info"], "addr_untyped")
for a in ["PO Box 1234, Red Deer AB T4N 5E1", "P.O. Box 88 Halifax NS", "apt 4b 220 king", "unit 12 - 45 parkside", "rural route 2 box 14", "22 the mews", "flat 3, 14 ashgrove, cardiff CF10 3NB", "1600 pennsylvania", "twelve oak lane", "forty two maple crescent", "3 - 455 bank, ottawa", "1402-88 harbour, toronto M5J 2L2", "15 rue des érables montréal", "apt 7, 99 sunset heights"]:
    add(R.choice(ATPL).format(a), ["contact_info"], "addr_misc")

ASKS = ["whats ur number", "can i have your cell?", "drop your digits", "send me your phone number", "what's your email?", "give me ur email", "do you have insta?", "whats ur snap", "what's your discord", "where do you live exactly?", "what's your home address", "text me your address", "can I get your socials", "add me on snap?", "send ur @", "what's your whatsapp", "is your number the same?", "send me your number again", "you have telegram?", "what's your gamertag"]
for a in ASKS: add(a, ["contact_info"], "ask")

# split conversations (mine)
def conv(parts, fam, labels=("contact_info",)):
    cid = f"dvc-{len(out):04d}"; role = R.choice(["student", "mentor"])
    for p in parts: add(p, list(labels), fam, role, cid)
for parts in [["my num is 403", "555", "0123"], ["416", "555...", "0187"], ["ok here 587-", "555-", "0112"], ["six one three", "five five five", "oh one four two"], ["sending it in pieces 778", "555", "01", "64"], ["maya.chen", "at gmail", "dot com"], ["its zara_codes", "@yahoo", ".ca"], ["my email: liam.r", "ossi22", "@outlook.com"], ["902", "555", "0199"], ["part 1: 250", "part 2: 555", "part 3: 0134"], ["first 3: 647", "then 555", "last 4: 0177"], ["my digits r 6 0 4", "5 5 5", "0 1 6 6"]]:
    conv(parts, "split")
for parts in [["what page?", "214"], ["how many trials?", "403", "then 555 more"], ["ok q1 is 42", "q2 = 17", "q3 was 0.55"], ["score: 21", "to 14", "we won!"], ["the isbn is 978", "0262033848"], ["temp readings: 22.5", "23.1", "24.0"], ["room 214", "at 4:30"], ["pi is 3.14159", "26535", "lol"], ["which bus?", "the 403", "it comes at 7"], ["how much was it?", "$45", "plus tax"]]:
    conv(parts, "benign_split", labels=())

BENIGN = """my phone died lol, sorry for the late reply
oh snap it compiled!!
the answer is 403, i checked twice
we scored 555 points in the robotics round
solve 4x - 7 = 21 for x
i got 98/100 on the chem test
the lab is in room 2104 at 3:15
page 555, questions 1-12
ISBN 978-0-262-03384-8
the flight is AC 123 at 6:45
the train leaves at 17:05 from platform 4
it costs $24.99 + tax
my gpa went from 3.2 to 3.7
the password must be 8-16 characters
python 3.12.1 broke my venv
run pip install numpy==1.26.4
git checkout -b feature/login
npm i express@4.19.2
the function returns 0 or 1
the speed of light is 299 792 458 m/s
avogadro is 6.022 x 10^23
the mass is 12.5 kg and the force is 122.6 N
e = mc^2 and c = 3.00 x 10^8 m/s
pH of 7.4 is normal for blood
the ratio 16:9 is standard
the year 1969 is when apollo 11 landed
between 1914 and 1918
the population is 8 100 000 000
I ran 5 km in 27:30
CHEM 1110 and MATH 1051 are prereqs
CS 2110, CS 2800 and MATH 2940 this fall
AP Calc BC, AP Physics C, AP CSA
IB HL chem paper 2 was brutal
MATH 31 and PHYS 30 for engineering
course code ENGR 1010 section 002
the zip file is 250 MB
my resolution is 1920 x 1080
RGB(255, 128, 0) is orange
hex color #ff8800
port 8080 is already in use
localhost:3000 shows a blank page
the error is on line 405 of main.py
use the 555 timer IC for the blinking LED
a 555 timer with 10k and 100uF
resistors: 220, 330, 470, 1k ohm
the sequence 2, 4, 8, 16, 32, 64
primes: 2 3 5 7 11 13 17 19 23 29
binary 1010 1100 0011 is 0xAC3
the serial number on the arduino is 1234567
my student number is 20261234
order #4455 shipped
tracking number 1Z999AA10123456784
call of duty is so laggy
call me crazy but I love thermodynamics
text me... jk, message here when you're done
email your teacher about the extension
ask your parents to email the coordinator
the coordinator's email is on the trellis help page
my sister's number is in my phone somewhere lol
phones were banned at school today
my phone number changed so I can't get 2fa codes, annoying
I'll send it here on trellis tonight
the discord for our class is run by ms patel
snapchat uses ephemeral messages, cool for a privacy essay
instagram's algorithm is a good ML example
tiktok's recommender is wild
whatsapp uses end to end encryption
zoom fatigue is a real thing lol
read wikipedia.org/wiki/Photosynthesis
https://www.khanacademy.org/math/algebra
use desmos.com/calculator for the graph
https://phet.colorado.edu/en/simulations/circuit-construction-kit-dc
https://arxiv.org/abs/1706.03762
https://docs.python.org/3/library/re.html
see https://ocw.mit.edu/courses/18-01sc-single-variable-calculus-fall-2010/
doi.org/10.1038/nature14539
the file is script.sh and config.yaml
open index.html in your browser
rename it to report_final.docx
import numpy as np; np.arange(10)
@dataclass class Point: x: int
use @staticmethod there
df.groupby('year').mean()
self.name = name
my little sister is 7 and already codes
my dad works nights so I study late
my grandma turns 80 on saturday
my brother is at uni in halifax
we're going to my aunt's for thanksgiving
that test killed me lol
i'm dead 😂 that meme
this homework is murdering me
I could just die, I tripped in front of everyone
ugh kill me now, 3 more lab reports
i'd rather die than redo that essay lol
my plant is dying again
the cell dies by apoptosis
the dinosaurs died out 66 million years ago
shoot, I forgot the attachment
you killed it in the presentation!!
that's sick, great job
your robot is a beast
this bug is so stupid lol
i hate recursion
don't be so hard on yourself
that's a hot take on string theory
the kiss principle: keep it simple
the body of the essay needs work
your photo of the titration is clear
we're meeting online here at 5 like usual
let's meet the deadline friday
meet me halfway on the word count lol
the science fair is at the school gym saturday, parents welcome
the class trip to the museum is on the 12th with ms lee
the coordinator set up a group session for all mentees
let's keep chatting here on trellis
don't tell me the answer yet
the secret ingredient is patience
keep your password secret
it's a surprise for my mom's birthday
delete the old branch after merging
you should tell your teacher, she'd want to know
free pizza at the robotics club friday
the school gives us free calculators
I got a gift card for my birthday
the prize is a $50 amazon card for the winner, from the school
let me know if you need more resources
what time works for our next session?
how old were you when you started coding?
which university do you want to go to?
what's your favourite subject?
what grade are you in now?
my mentor in uni was amazing
I'll be at the conference next week, reply might be slow
see you tuesday at 4:30 in our session
next session friday 6-7pm?
can we move to 5:45 instead of 5?
deadline is 11:59pm on the 14th
the exam is on 2026-06-12 at 9am
office hours are 2-4pm mon/wed
my schedule: 8:30-3:15 school, 4-6 robotics
12/05/2025 works
back in 10 min
3 out of 4 dentists lol
the mark scheme gives 6 marks for part b
we won 4-2 in overtime!!
final score 21-17
the bill came to $87.50 split 3 ways
the tickets are £12 each
it was 30% off
he ran the 100 m in 10.58 s
the marathon record is 2:00:35
my 2k erg time is 7:12.4
i'm 5'7 and 140 lbs lol for the physics problem
the earth is 149.6 million km from the sun
g = 9.81 m/s^2
the half life is 5730 years
1 mol = 6.022e23 particles
the circuit has a 9 V battery and 3 resistors
at 25 °C the vapour pressure is 3.17 kPa
the address bus is 32 bits wide
street view in google maps is cool for geography
my street is so loud at night lol
the 401k is a retirement thing, ask your parents
route 66 is a famous highway
highway 401 was jammed
bus 99 to campus
the 7 train was late
the main street bakery has good muffins
I walked 3 blocks down king street
the house numbers on my street go up by 2
area code 403 is calgary fun fact
the number 867-5309 is from a song lol
1-800 numbers are toll free, neat history
a phone number has 10 digits in north america
what's the number for the school office? i need to call about my schedule
email the office at the school, not me
I don't have snap lol
my parents won't let me have instagram
x = 555 and y = 123, then x + y = 678
555 + 123 = 678
the answer to 12 x 46 is 552
2^10 = 1024
the matrix is [[1, 2], [3, 4]]
12 34 56 78 in the table
sample sizes 120 250 310 405
the data points: 403, 555, 199, 212
my lucky numbers are 7 13 42
the combination is 12 36 24 jk
version 2.14.3
room 3-104 in the science wing
in 2024 we had 1,250 students
1 800 000 people live there
my sat score was 1450
student id 4035550199 don't share it
I have 2 brothers and 1 sister
I'm 15 so I can't drive yet
see you at 4!
ok
thanks!!
lol same
@everyone the session is cancelled
shoutout to @here in the server
the snap pea plants grew 12 cm
my insta pot recipe lol
i use google docs
the gmail api quota is 250 units
use the twitter api v2
the snap election was in the news
""".strip().split("\n")
for b in BENIGN: add(b, [], "benign")
BENIGN2 = """keep this between us and the judges until the results are out, it's a surprise
this is our little secret project for the science fair, your teacher knows
no one needs to know how many times I failed this exam lol
you can tell me anything about the project, I won't judge your code
delete your old drafts so you don't submit the wrong one
I'll send you the slides here after the session
I'll send the feedback on trellis tonight
can you send me the lab report when you're done?
send me your draft and I'll review it
send me a pic of the circuit so I can see the wiring
send a photo of your graph, I'll check the axes
can I see a picture of your robot?
you look tired in the video session, get some sleep
you're so smart, seriously
you're such a good student, your teacher must love you
I'm proud of you
that outfit in the yearbook photo was iconic haha
let's video call here on trellis at 5
can we do a call on the trellis video feature?
we could use zoom for the class presentation, your teacher set it up
the teacher will send the zoom link to everyone
join the google meet your school set up for the club
my old mentor gave me a book, it changed my life
I'll buy the supplies for the club with the school budget
the club will pay for your registration fee
do you want me to recommend you for the scholarship?
I'll write you a reference letter, just send the form via the coordinator
I'll give you feedback, not answers lol
you owe me nothing, good luck!
I'd love to meet your parents at the showcase
let's meet at the library with your study group
meet me in the trellis session room at 4
I'll be at the mall food court with my family this weekend
where is your school's science fair this year?
how old is your little brother?
what city are you in, for scheduling time zones?
I live in calgary too!
which time zone are you in?
kill the process with ctrl+c
kill -9 the pid
the script kills all the zombie processes
I'm dying to see your results
this bug is killing me
you're killing it!!
I want to die laughing at this meme
I feel like crying, I finally passed
I'm so depressed about the game last night lol
my heart broke when the code didn't compile
I'm cutting the video into clips
cut the wire, the red one
the knife edge in the optics lab
overdose of caffeine today lol, 4 coffees
that's so dumb of me, forgot the units
this is trash code, let's refactor it together
my teacher is a beast at physics
the killer whale is actually a dolphin
the battery died
my laptop died mid-exam
dead battery again
hang in there, exams end soon
the gift of curiosity is underrated
free samples at the chem fair
sexual reproduction vs asexual reproduction
the bio unit on puberty and hormones was interesting
the human body has 206 bones
the kiss of death for a project is scope creep
hot glue gun burned my finger lol
my crush on astrophysics continues
date the lab book pages
the first date in the timeline is 1543
secret santa at the club, budget $10
the password is hunter2 jk never share passwords
don't tell anyone the surprise party is friday, the class is planning it
keep it quiet in the library
what's your favourite snack for studying?
whats your discord server for the robotics team? I mean the school one
the gmail app keeps crashing
I emailed the coordinator about the schedule
email me the answers... just kidding, do it yourself
call it a day
I'll call the school tomorrow about the form
phone a friend lol
contact the coordinator if you need to reschedule
my contact lens fell out
the contact angle of water on glass
contact forces vs field forces
add me to the google doc, the coordinator has access
follow the instructions on page 4
follow me on this proof step by step
snap judgment isn't good in science
snap the lego pieces together
it's a snap once you get it
insta-ramen is my fuel
@ me if you need help on the forum
my username on khan academy is my school email lol
ur insta-worthy lab setup 😂
""".strip().split("\n")
for b in BENIGN2: add(b, [], "benign2")
import os, sys
d3 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handwritten.txt")
for i, l in enumerate(open(d3, encoding="utf-8")):
    l = l.rstrip("\n")
    if l and not l.startswith("#"):
        k, t = l.split("|", 1)
        add(t, ["contact_info"] if k == "C" else [], "hand_" + k, "student" if i % 2 else "mentor")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.jsonl"), "w", encoding="utf-8") as f:
    for o in out: f.write(json.dumps(o, ensure_ascii=False) + "\n")
print(len(out))
