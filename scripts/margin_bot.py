#!/usr/bin/env python3
"""The guard's margin, from inside the stopped program (scripts/bench_guard.sh).

Usage: margin_bot.py CLOCK_FILE NAME
Writes CLOCK_MONOTONIC (ns) into CLOCK_FILE's first 8 bytes just before it creates
NAME.session in the working directory, then writes it into the next 8 bytes as fast as it
can until it is stopped. The difference between the two is how long it ran after the file
appeared: the time tgsess exec took to freeze it (to within one loop, about a microsecond;
0 when it was frozen before open() returned).
"""

import mmap
import os
import struct
import sys
import time

fd = os.open(sys.argv[1], os.O_RDWR)
clock = mmap.mmap(fd, 16)
now = time.monotonic_ns
t0 = now()
clock[0:16] = struct.pack("<qq", t0, t0)  # frozen inside open(): a margin of 0
open(sys.argv[2] + ".session", "a").close()
while True:
    clock[8:16] = struct.pack("<q", now())
