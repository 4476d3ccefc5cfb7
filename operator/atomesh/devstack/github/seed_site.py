"""The sample repository's landing page and pricing workbook: what the example agents
landing-copy (visual) and pricing-sheet (spreadsheet) change. The workbook is binary, kept here
as base64 of the exact bytes of agents/testdata/sample-app/pricing/plans.xlsx."""

from __future__ import annotations

import base64
from typing import Final

PLANS_XLSX: Final = base64.b64decode(
    """
UEsDBBQAAAAIADs9h11Gx01IlQAAAM0AAAAQAAAAZG9jUHJvcHMvYXBwLnhtbE3PTQvCMAwG4L9SdreZih6kDkQ9ip68zy51hbYp
bYT67+0EP255ecgboi6JIia2mEXxLuRtMzLHDUDWI/o+y8qhiqHke64x3YGMsRoPpB8eA8OibdeAhTEMOMzit7Dp1C5GZ3XPlkJ3
sjpRJsPiWDQ6sScfq9wcChDneiU+ixNLOZcrBf+LU8sVU57mym/8ZAW/B7oXUEsDBBQAAAAIADs9h11PAZX09QAAAM0BAAARAAAA
ZG9jUHJvcHMvY29yZS54bWyFkcFqwzAMhl+l5J7ITtcWTJrLxk4bDFbY2E3YahsWJ8LWSPf2c7M27dhgoIv1f/okcGXZ2D7QU+iZ
gjQUZwffdtFYXmd7ETYA0e7JYywS0aVw2wePkp5hB4z2HXcEpVJL8CToUBCOwpwnY3ZSOjsp+SO0o8BZoJY8dRJBFxourFDw8c+B
MZnIQ2wmahiGYpiPXLpIw+vjw/N4fN50UbCzlNWVs8YGQulDHdFzSzkyV3DVrk7bvxvkZmmHkU+mdXZOXua3d5v7rC5VucyVTrVR
yoz1dnT9mL8Ife+abfO/UZe5Wm3Uytxos1hcGc+CuoJfP1d/AVBLAwQUAAAACAA7PYddmVycIxAGAACcJwAAEwAAAHhsL3RoZW1l
L3RoZW1lMS54bWztWltz2jgUfu+v0Hhn9m0LxjaBtrQTc2l227SZhO1OH4URWI1seWSRhH+/RzYQy5YN7ZJNups8BCzp+85FR+fo
OHnz7i5i6IaIlPJ4YNkv29a7ty/e4FcyJBFBMBmnr/DACqVMXrVaaQDDOH3JExLD3IKLCEt4FMvWXOBbGi8j1uq0291WhGlsoRhH
ZGB9XixoQNBUUVpvXyC05R8z+BXLVI1lowETV0EmuYi08vlsxfza3j5lz+k6HTKBbjAbWCB/zm+n5E5aiOFUwsTAamc/VmvH0dJI
gILJfZQFukn2o9MVCDINOzqdWM52fPbE7Z+Mytp0NG0a4OPxeDi2y9KLcBwE4FG7nsKd9Gy/pEEJtKNp0GTY9tqukaaqjVNP0/d9
3+ubaJwKjVtP02t33dOOicat0HgNvvFPh8Ouicar0HTraSYn/a5rpOkWaEJG4+t6EhW15UDTIABYcHbWzNIDll4p+nWUGtkdu91B
XPBY7jmJEf7GxQTWadIZljRGcp2QBQ4AN8TRTFB8r0G2iuDCktJckNbPKbVQGgiayIH1R4Ihxdyv/fWXu8mkM3qdfTrOa5R/aasB
p+27m8+T/HPo5J+nk9dNQs5wvCwJ8fsjW2GHJ247E3I6HGdCfM/29pGlJTLP7/kK6048Zx9WlrBdz8/knoxyI7vd9lh99k9HbiPX
qcCzIteURiRFn8gtuuQROLVJDTITPwidhphqUBwCpAkxlqGG+LTGrBHgE323vgjI342I96tvmj1XoVhJ2oT4EEYa4pxz5nPRbPsH
pUbR9lW83KOXWBUBlxjfNKo1LMXWeJXA8a2cPB0TEs2UCwZBhpckJhKpOX5NSBP+K6Xa/pzTQPCULyT6SpGPabMjp3QmzegzGsFG
rxt1h2jSPHr+BfmcNQockRsdAmcbs0YhhGm78B6vJI6arcIRK0I+Yhk2GnK1FoG2camEYFoSxtF4TtK0EfxZrDWTPmDI7M2Rdc7W
kQ4Rkl43Qj5izouQEb8ehjhKmu2icVgE/Z5ew0nB6ILLZv24fobVM2wsjvdH1BdK5A8mpz/pMjQHo5pZCb2EVmqfqoc0PqgeMgoF
8bkePuV6eAo3lsa8UK6CewH/0do3wqv4gsA5fy59z6XvufQ9odK3NyN9Z8HTi1veRm5bxPuuMdrXNC4oY1dyzcjHVK+TKdg5n8Ds
/Wg+nvHt+tkkhK+aWS0jFpBLgbNBJLj8i8rwKsQJ6GRbJQnLVNNlN4oSnkIbbulT9UqV1+WvuSi4PFvk6a+hdD4sz/k8X+e0zQsz
Q7dyS+q2lL61JjhK9LHMcE4eyww7ZzySHbZ3oB01+/ZdduQjpTBTl0O4GkK+A226ndw6OJ6YkbkK01KQb8P56cV4GuI52QS5fZhX
befY0dH758FRsKPvPJYdx4jyoiHuoYaYz8NDh3l7X5hnlcZQNBRtbKwkLEa3YLjX8SwU4GRgLaAHg69RAvJSVWAxW8YDK5CifEyM
Rehw55dcX+PRkuPbpmW1bq8pdxltIlI5wmmYE2eryt5lscFVHc9VW/Kwvmo9tBVOz/5ZrcifDBFOFgsSSGOUF6ZKovMZU77nK0nE
VTi/RTO2EpcYvOPmx3FOU7gSdrYPAjK5uzmpemUxZ6by3y0MCSxbiFkS4k1d7dXnm5yueiJ2+pd3wWDy/XDJRw/lO+df9F1Drn72
3eP6bpM7SEycecURAXRFAiOVHAYWFzLkUO6SkAYTAc2UyUTwAoJkphyAmPoLvfIMuSkVzq0+OX9FLIOGTl7SJRIUirAMBSEXcuPv
75Nqd4zX+iyBbYRUMmTVF8pDicE9M3JD2FQl867aJguF2+JUzbsaviZgS8N6bp0tJ//bXtQ9tBc9RvOjmeAes4dzm3q4wkWs/1jW
Hvky3zlw2zreA17mEyxDpH7BfYqKgBGrYr66r0/5JZw7tHvxgSCb/NbbpPbd4Ax81KtapWQrET9LB3wfkgZjjFv0NF+PFGKtprGt
xtoxDHmAWPMMoWY434dFmhoz1YusOY0Kb0HVQOU/29QNaPYNNByRBV4xmbY2o+ROCjzc/u8NsMLEjuHti78BUEsDBBQAAAAIADs9
h134w9MXvgEAAGsEAAAYAAAAeGwvd29ya3NoZWV0cy9zaGVldDEueG1sfVRdb5swFP0rFj+gJiS0WwVIS6pqe6gUNev27MAlWPUH
sy9h/feznZS5EekT98PnnHuM7WLU5tV2AEj+SqFsmXSI/T2ltu5AMnuje1Cu02ojGbrUHKjtDbAmgKSgWZreUsm4Sqoi1LamKvSA
givYGmIHKZl5W4PQY5kskvfCMz90GAq0Knp2gB3gS+8ALqUTT8MlKMu1IgbaMvm2uN/kARFW/OIw2igm3sxe61ef/GjKJPUzgYAa
PQVznyNsQAjP5Cb5cyZN/ot6ZBy/0z8G/268PbOw0eI3b7Arky8JaaBlg8BnPX6Hs6doxAeGrCqMHonxZqui9kFQD+bdcq78Vu3Q
uC53elhtBVMFRTeHz2l9Rq0/Rz1phZ14Iy+7hxnw5nPwDtzfJVzVYmig+YinbvzJQzZ5yK5RITMIZs7ACeJPyrH6WtBjPF/cW0y9
D9rLSXt5RfsnMDknvIzIs0vluJnPK68m5dUV5fVgXcXaOfVVbPtSPW5m6bx8Psnn14xrZGJOO4+3dXl3wU+jQ+ov4RMzB64sEdA6
VHpz5+DmdKpPCeo+HKK9RtQyhJ17DMD4Ba7fao1T4m/V9L5U/wBQSwMEFAAAAAgAOz2HXR0w7Y1yAQAAawIAABgAAAB4bC93b3Jr
c2hlZXRzL3NoZWV0Mi54bWxNUk1v2zAM/SuELrsMUTpgHyhsA12HYTsMCJp1PTM2HQuVRE9i5vbfj5KbtAdBJEU+vkeqWTg95olI
4Cn4mFsziczX1uZ+ooB5wzNFfRk5BRR109HmOREOtSh4+2G7/WQDumi6psZ2qWv4JN5F2iXIpxAwPX8lz0trrsw5cOeOk9SA7ZoZ
j7QnuZ+1QF17wRlcoJgdR0g0tubm6vpmragZfxwt+Y0NRcyB+bE4P4fWbAsn8tRLgUC9/tEteV+QlMnfF1Dz2rRUvrXP8N+rfqV3
wEy37B/cIFNrvhgYaMSTlzteftCLpo+vFL+hYNckXiAVsV3TF6O01EQXy5D2kjTutJN0u+R6yoCJwEW438PA3mPSCASOMr2HA+kq
CASfNvCbBT24DDJRmSvwWM3ZY8zv1gr/DHMF3TRWVFnpY3s9yuksdCVZlvAL09HFDJ5G5bfdfFYpaVW1OsJzXdqBRThUc9LPQKkk
6PvILBenTPXyv7r/UEsDBBQAAAAIADs9h10YtBxXZAIAAMAKAAANAAAAeGwvc3R5bGVzLnhtbN1W246bMBD9FeQPKEtQUahCHooU
qVJbrbT70FcTTGLJF2rMKunX12M7gexmWLXqU0GBmTk+c/NYZDPYs2BPR8ZscpJCDRU5Wtt/StNhf2SSDh90z5RDOm0ktU41h3To
DaPtACQp0tXDQ5FKyhXZbtQod9IOyV6PylbkgSTpdtNpNZlWJBjcWipZ8kJFRWoqeGN4WEwlF+dgX3nLXgttEuuyYRXJvGn4FRZk
UYVUoy/JlTbemoYw4dlEwhzxr8Gt4ELc5ucM201PrWVG7ZwSSN76Fovy87l3+R0MPWerj2TG8C8XptGmZeYaKCMX03YjWGeBYfjh
6AWre3g12lotQWo5PWhFQyYXWhSc7z0T4gl28kd3E+DUJWFLvrR+N6Dii+iyimJwExUIMHcXnM/8rv7Ob89ftP08uoKU13+O2rJH
wzp+8vqpmxLA3Gf/xn0aK5r17aZrV2sCM1qR7zD7YuajGbmwXEXtyNuWqbfNc/4tbdzpugngVrWso6Owz1ewIpP8jbV8lOV11SMU
FldN8leYlKyYDogLxlXLTqyto2oOjRcTJ7iw8fKM19DOXwiEsgKIQACisdA0UFbgobH+x7rWeF0BRDNc34fWOGuNswLvLlT7G42F
sEp3ISWXZZ4XBdreur6fRo32sCjghzhEMwQOGgui/WnnFwZgYWzemQ10lxfHBi15YUTRkhc6DxDSQ+CUJTIAaCzgoJuCThQkgcSC
UUNYeQ77jGaIHvMFqCxRCIYUmd6iwBpVwI3sF3qI8rwsEQhAJI08RyE4sAsQmgYkgkJ5Hj6kr75n6eU7l07/Wbe/AVBLAwQUAAAA
CAA7PYddt0frisAAAAAWAgAACwAAAF9yZWxzLy5yZWxznZJLbgIxDECvEmVfTKnEAjGs2LBDiAu4ieejmcSRY8T09o3YwCBoEUv/
np4trw80oHYcc9ulbMYwxFzZVjWtALJrKWCecaJYKjVLQC2hNJDQ9dgQLObzJcgtw27Wt0xz/En0CpHrunO0ZXcKFPUB+K7DmiNK
Q1rZcYAzS//N3M8K1Jqdr6zs/Kc18KbM8/UgkKJHRXAs9JGkTIt2lK8+nt2+pPOlY2K0eN/o//PQqBQ9+b+dMKWJ0tdFCSZvsPkF
UEsDBBQAAAAIADs9h10MVpwtQAEAAGYCAAAPAAAAeGwvd29ya2Jvb2sueG1sjVHRTsMwDPyVKh9AuwomMa17YQImoTExtPe0cVdr
SVwl7gb7epJWhUpIiCfHZ/tyZy8v5E4l0Sn5MNr6hStEw9wu0tRXDRjpb6gFG2o1OSM5pO6YUl1jBWuqOgOW0zzL5qkDLRnJ+gZb
Lwa2/3D51oFUvgFgowcqI9GK1XJUtnNJOs2IoYo/RTQiB4SL/2mIaXJGjyVq5M9C9G8NIjFo0eAVVCEykfiGLs/k8EqWpd5XjrQu
xGwoHMAxVr/gfZT5LkvfIyzLt+i5EPMsENboPPcdPb8MIs8QmoesY3pEzeDWkuHJUdeiPfY0wUY68dGvYoyJlQYKsdPS+ighQBs1
yOHAMzHnFhgKbqMGxun0NmxsOp3/MZ0PekYRCmq0oLaBx8dCWEkV7hFDryO/vZvdB+ud1g8Be7UvJNW3q/Ekqy9QSwMEFAAAAAgA
Oz2HXateci60AAAAjQIAABoAAAB4bC9fcmVscy93b3JrYm9vay54bWwucmVsc8WSTQqDMBBGrxJyAEdt6aKoq27cFi8QdPzBxITM
lOrtK7pQoYtupKvwTcj7HkySJ2rFnR2o7RyJ0eiBUtkyuzsAlS0aRYF1OMw3tfVG8Rx9A06VvWoQ4jC8gd8zZJbsmaKYHP5CtHXd
lfiw5cvgwF/A8La+pxaRpSiUb5BTCaPexgTLEQUzWYq8SqXPq0gK+LdRfDCKzzQinjTSprPmQ//lzH6e3+JWv8R1eFzLdZGAw+/L
PlBLAwQUAAAACAA7PYddpeEbWB8BAABgBAAAEwAAAFtDb250ZW50X1R5cGVzXS54bWzFVMtOwzAQ/JXI1yp26YEDanqhXKEHfsAk
m8aKX/JuS/r3bBJaCVRaqiBxiRXv7Mx4x/Ly9RABs85Zj4VoiOKDUlg24DTKEMFzpQ7JaeLftFVRl63eglrM5/eqDJ7AU049h1gt
11DrnaXsqeNtNMEXIoFFkT2OwF6rEDpGa0pNXFd7X31TyT8VJHcOGGxMxBkDRKbOSgylHxWOjS97SMlUkG10omftGKY6q5AOFlBe
5jjjMtS1KaEK5c5xi8SYQFfYAJCzciSdXZEmHjKM37vJBgaai4oM3aQQkVNLcLveMZa+O49MBInMlUOeJJl78gmhT7yC6rfiPOH3
kNohE1TDMn3MX3M+8d9qZPGfRt5CaP/6wverdNr4kwE1PCyrD1BLAQIUAxQAAAAIADs9h11Gx01IlQAAAM0AAAAQAAAAAAAAAAAA
AACAAQAAAABkb2NQcm9wcy9hcHAueG1sUEsBAhQDFAAAAAgAOz2HXU8BlfT1AAAAzQEAABEAAAAAAAAAAAAAAIABwwAAAGRvY1By
b3BzL2NvcmUueG1sUEsBAhQDFAAAAAgAOz2HXZlcnCMQBgAAnCcAABMAAAAAAAAAAAAAAIAB5wEAAHhsL3RoZW1lL3RoZW1lMS54
bWxQSwECFAMUAAAACAA7PYdd+MPTF74BAABrBAAAGAAAAAAAAAAAAAAAgIEoCAAAeGwvd29ya3NoZWV0cy9zaGVldDEueG1sUEsB
AhQDFAAAAAgAOz2HXR0w7Y1yAQAAawIAABgAAAAAAAAAAAAAAICBHAoAAHhsL3dvcmtzaGVldHMvc2hlZXQyLnhtbFBLAQIUAxQA
AAAIADs9h10YtBxXZAIAAMAKAAANAAAAAAAAAAAAAACAAcQLAAB4bC9zdHlsZXMueG1sUEsBAhQDFAAAAAgAOz2HXbdH64rAAAAA
FgIAAAsAAAAAAAAAAAAAAIABUw4AAF9yZWxzLy5yZWxzUEsBAhQDFAAAAAgAOz2HXQxWnC1AAQAAZgIAAA8AAAAAAAAAAAAAAIAB
PA8AAHhsL3dvcmtib29rLnhtbFBLAQIUAxQAAAAIADs9h12rXnIutAAAAI0CAAAaAAAAAAAAAAAAAACAAakQAAB4bC9fcmVscy93
b3JrYm9vay54bWwucmVsc1BLAQIUAxQAAAAIADs9h12l4RtYHwEAAGAEAAATAAAAAAAAAAAAAACAAZURAABbQ29udGVudF9UeXBl
c10ueG1sUEsFBgAAAAAKAAoAhAIAAOUSAAAAAA==
"""
)

SITE_FILES: Final[dict[str, str | bytes]] = {
    "site/index.html": """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>sample-app — greetings as a service</title>
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <header><img src="logo.svg" alt="sample-app" width="140" height="40"></header>
  <main>
    <section class="hero">
      <h1>The greeting platform for teams of every size
        that want to say hello</h1>
      <p>sample-app is a greeting service that greets the people you name with a friendly greeting,
        every time.</p>
      <a class="cta" href="#pricing">See pricing</a>
    </section>
    <section id="pricing" class="plans">
      <div class="plan"><h2>Starter</h2><p class="price">$9</p><p>1 seat</p></div>
      <div class="plan"><h2>Team</h2><p class="price">$29</p><p>5 seats</p></div>
      <div class="plan"><h2>Business</h2><p class="price">$99</p><p>20 seats</p></div>
    </section>
  </main>
</body>
</html>
""",
    "site/style.css": """body { margin: 0; font-family: "DejaVu Sans", sans-serif; color: #1f2328; background: #fff; }
header { padding: 16px 32px; border-bottom: 1px solid #d0d7de; }
main { max-width: 960px; margin: 0 auto; padding: 32px; }
.hero h1 { font-size: 40px; line-height: 1.2; margin: 0 0 16px; }
.hero p { font-size: 20px; color: #59636e; margin: 0 0 24px; }
.cta { display: inline-block; padding: 12px 20px; background: #1f883d; color: #fff; border-radius: 6px;
  text-decoration: none; }
.plans { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 48px; }
.plan { flex: 1 1 200px; border: 1px solid #d0d7de; border-radius: 8px; padding: 16px; }
.price { font-size: 32px; font-weight: bold; margin: 8px 0; }
""",
    "site/logo.svg": """<svg xmlns="http://www.w3.org/2000/svg" width="140" height="40" viewBox="0 0 140 40">
  <rect x="0" y="4" width="32" height="32" rx="8" fill="#1f883d"/>
  <text x="42" y="27" font-family="DejaVu Sans, sans-serif" font-size="18" fill="#1f2328">sample-app</text>
</svg>
""",
    "pricing/plans.xlsx": PLANS_XLSX,
    "pricing/set_price.py": '''"""Set a plan's monthly price in pricing/plans.xlsx; Total stays the sum of the plans.

Usage: python pricing/set_price.py PLAN PRICE

Standard library only: it rewrites the Plans sheet's XML inside the workbook and copies every other
part of the file unchanged.
"""

import re
import sys
import zipfile

WORKBOOK = "pricing/plans.xlsx"
SHEET = "xl/worksheets/sheet1.xml"  # Plans: names in column A, monthly prices in column B


def cell_value(xml: str, ref: str) -> float:
    found = re.search(rf'<c r="{ref}"[^>]*><v>([^<]*)</v></c>', xml)
    if found is None:
        sys.exit(f"{WORKBOOK}: cell {ref} holds no number")
    return float(found.group(1))


def set_value(xml: str, ref: str, value: float) -> str:
    shown = str(int(value)) if value.is_integer() else repr(value)
    return re.sub(rf'(<c r="{ref}"[^>]*><v>)[^<]*(</v></c>)', rf"\\g<1>{shown}\\g<2>", xml)


def main(plan: str, price: str) -> None:
    with zipfile.ZipFile(WORKBOOK) as book:
        parts = [(info, book.read(info.filename)) for info in book.infolist()]
    xml = next(data for info, data in parts if info.filename == SHEET).decode("utf-8")
    rows = {name: int(row) for row, name in re.findall(r'<c r="A(\\d+)"[^>]*><is><t>([^<]*)</t></is></c>', xml)}
    plans = [name for name in rows if name not in ("Plan", "Total")]
    if plan not in plans:
        sys.exit(f"no plan named {plan!r}; the plans are {', '.join(plans)}")
    value = float(price)
    xml = set_value(xml, f"B{rows[plan]}", value)
    total = sum(cell_value(xml, f"B{rows[name]}") for name in plans)
    xml = set_value(xml, f"B{rows['Total']}", total)
    with zipfile.ZipFile(WORKBOOK, "w", zipfile.ZIP_DEFLATED) as book:
        for info, data in parts:
            book.writestr(info, xml.encode("utf-8") if info.filename == SHEET else data)
    print(f"{plan}: {value:g} USD a month; total of the plans {total:g}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
''',
}
