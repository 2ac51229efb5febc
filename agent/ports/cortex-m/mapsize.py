#!/usr/bin/env python3
"""Flash and RAM of Vigil's own code in a linked Cortex-M image, read from its GNU ld map file.

Sums the input sections the linker kept (after --gc-sections) per object file, so startup code,
the test harness, mem* and libgcc are left out. Vigil's objects are the members of the agent,
protocol-core and Cortex-M port archives.

  flash = .text* + .rodata* + .init_array/.ARM.exidx + .data* (its initial values live in flash)
  RAM   = .data* + .bss* + COMMON (the stack is the application's and is measured separately)

Prints a per-object table, the largest functions, and
  BENCH agent_flash_bytes N B
  BENCH agent_ram_bytes N B
Exits 1 when a figure is over its budget.

Usage: mapsize.py [--flash-budget B] [--ram-budget B] IMAGE.map
"""

import argparse
import re
import shutil
import subprocess
import sys
from collections import defaultdict

VIGIL_ARCHIVES = ("libvigil_agent.a", "libvigil_protocol_core.a", "libvigil_port_cortex_m.a")

# " .text.name  0xADDR  0xSIZE  file" on one line, or the name alone with the rest on the next.
SECTION_LINE = re.compile(r"^ (\.\S+|COMMON)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*))?$")
CONTINUATION = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def kind_of(section):
    """The column a kept input section counts in, or None for what is not loaded."""
    if section.startswith(".text"):
        return "text"
    if section.startswith((".rodata", ".init_array", ".fini_array", ".preinit_array",
                           ".ARM.exidx", ".ARM.extab")):
        return "rodata"
    if section.startswith(".data"):
        return "data"
    if section.startswith(".bss") or section == "COMMON":
        return "bss"
    return None


def read_map(path):
    """[(section, size, object)] for every kept, loaded input section."""
    kept = []
    in_layout = False
    pending = None
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if not in_layout:
                in_layout = line.startswith("Linker script and memory map")
                continue
            if pending is not None:
                match = CONTINUATION.match(line)
                if match:
                    kept.append((pending, int(match.group(2), 16), match.group(3).strip()))
                pending = None
                continue
            match = SECTION_LINE.match(line)
            if not match:
                continue
            if match.group(2) is None:
                pending = match.group(1)
            else:
                kept.append((match.group(1), int(match.group(3), 16), match.group(4).strip()))
    return [(s, size, obj) for s, size, obj in kept if size > 0 and kind_of(s) is not None]


def short_name(obj):
    """libvigil_agent.a(agent.cpp.obj) stays; paths lose their directories."""
    archive, _, member = obj.partition("(")
    archive = archive.rsplit("/", 1)[-1]
    return f"{archive}({member}" if member else archive


def is_vigil(obj):
    return short_name(obj).split("(")[0] in VIGIL_ARCHIVES


def demangle(names):
    tool = shutil.which("arm-none-eabi-c++filt") or shutil.which("c++filt")
    if tool is None or not names:
        return names
    result = subprocess.run([tool], input="\n".join(names), capture_output=True, text=True,
                            check=False)
    out = result.stdout.splitlines()
    return out if len(out) == len(names) else names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("map")
    parser.add_argument("--flash-budget", type=int, default=0)
    parser.add_argument("--ram-budget", type=int, default=0)
    parser.add_argument("--top", type=int, default=12, help="largest functions to list")
    args = parser.parse_args()

    kept = read_map(args.map)
    if not kept:
        print(f"mapsize.py: no input sections found in {args.map}", file=sys.stderr)
        return 1
    table = defaultdict(lambda: defaultdict(int))
    for section, size, obj in kept:
        table[obj][kind_of(section)] += size

    def flash(sizes):
        return sizes["text"] + sizes["rodata"] + sizes["data"]

    def ram(sizes):
        return sizes["data"] + sizes["bss"]

    rows = sorted(table.items(), key=lambda item: (not is_vigil(item[0]), -flash(item[1])))
    width = max(len(short_name(obj)) for obj in table) + 2
    header = f"{'object':<{width}}{'text':>7}{'rodata':>8}{'data':>6}{'bss':>7}{'flash':>8}{'RAM':>7}"
    print("Per object, input sections kept after --gc-sections (bytes):")
    print(header)
    totals = defaultdict(int)
    printed_rule = False
    for obj, sizes in rows:
        if not is_vigil(obj) and not printed_rule:
            print(f"{'  = Vigil (counted)':<{width}}{totals['text']:>7}{totals['rodata']:>8}"
                  f"{totals['data']:>6}{totals['bss']:>7}{flash(totals):>8}{ram(totals):>7}")
            print("not counted (startup, semihosting, mem*, the program, libgcc):")
            printed_rule = True
        print(f"{short_name(obj):<{width}}{sizes['text']:>7}{sizes['rodata']:>8}{sizes['data']:>6}"
              f"{sizes['bss']:>7}{flash(sizes):>8}{ram(sizes):>7}")
        if is_vigil(obj):
            for kind in ("text", "rodata", "data", "bss"):
                totals[kind] += sizes[kind]

    largest = sorted(((size, section, obj) for section, size, obj in kept if is_vigil(obj)),
                     reverse=True)[:args.top]
    if largest:
        names = demangle([re.sub(r"^\.(text|rodata|data|bss)(\.startup)?\.", "", s)
                          for _, s, _ in largest])
        print(f"Largest sections of Vigil's objects:")
        for (size, section, obj), name in zip(largest, names):
            print(f"  {size:>6}  {kind_of(section):<6} {name[:90]}  [{short_name(obj)}]")

    flash_bytes = flash(totals)
    ram_bytes = ram(totals)
    print(f"BENCH agent_flash_bytes {flash_bytes} B")
    print(f"BENCH agent_ram_bytes {ram_bytes} B")
    status = 0
    for what, value, budget in (("flash", flash_bytes, args.flash_budget),
                                ("RAM", ram_bytes, args.ram_budget)):
        if budget and value > budget:
            print(f"mapsize.py: {what} {value} B is over its budget of {budget} B",
                  file=sys.stderr)
            status = 1
        elif budget:
            print(f"{what}: {value} B of a {budget} B budget")
    return status


if __name__ == "__main__":
    sys.exit(main())
