#!/usr/bin/env python3
"""junit-summary.py FILE.xml — one line per ctest test from ctest's --output-junit file, for scripts/test.sh.

    pass<TAB>TEST
    fail<TAB>TEST
    skip<TAB>TEST              then one line per reason:
    why<TAB>TEST<TAB>REASON

A test is skipped when ctest skipped it (SKIP_RETURN_CODE, "***Skipped": the reason is its last output
line), or when it exited 0 but skipped part of itself: a cmocka "[  SKIPPED ] name" line, or a TAP line
"ok ... # SKIP reason" (our drivers and scripts). A test that skipped anything is not counted as passed.
A failed test stays failed whatever it skipped. ctest keeps the whole output only if test.sh raises
--test-output-size-passed; it does.
"""
import re
import sys
import xml.etree.ElementTree as ET

CMOCKA_SKIP = re.compile(r"^\[  SKIPPED \] (\S+)\s*$")
TAP_SKIP = re.compile(r"^ok\b(?:\s+\d+)?(?:\s+-)?\s*(.*?#\s*SKIP\b.*)$", re.IGNORECASE)


def inner_skips(out):
    reasons = []
    seen = set()
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = CMOCKA_SKIP.match(line)
        if m:
            name = m.group(1)
            if name in seen:  # cmocka lists each skipped test again at the end
                continue
            seen.add(name)
            # the line before cmocka's, when the test said why (print_message / fprintf before skip())
            prev = lines[i - 1].strip() if i > 0 else ""
            why = f"cmocka {name} skipped"
            if prev and not prev.startswith("["):
                why += f" ({prev})"
            reasons.append(why)
            continue
        m = TAP_SKIP.match(line)
        if m:
            reasons.append(m.group(1).strip())
    return reasons


def main():
    root = ET.parse(sys.argv[1]).getroot()
    for tc in root.iter("testcase"):
        name = tc.get("name", "?")
        status = tc.get("status", "")
        out_el = tc.find("system-out")
        out = out_el.text or "" if out_el is not None else ""
        if tc.find("failure") is not None or tc.find("error") is not None or status == "fail":
            print(f"fail\t{name}")
            continue
        skipped = tc.find("skipped")
        if skipped is not None or status in ("notrun", "disabled"):
            last = [l for l in out.splitlines() if l.strip()]
            why = last[-1].strip() if last else (skipped.get("message", "") if skipped is not None else status)
            print(f"skip\t{name}")
            print(f"why\t{name}\t{why}")
            continue
        reasons = inner_skips(out)
        if reasons:
            print(f"skip\t{name}")
            for r in reasons:
                print(f"why\t{name}\t{r}")
        else:
            print(f"pass\t{name}")


if __name__ == "__main__":
    main()
