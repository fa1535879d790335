#!/bin/sh
# Writes the assembly for the kernel's symbol table (function addresses and
# names, sorted) from a linked image: gen-ksyms.sh IMAGE > ksyms.S
set -e
echo '	.section .rodata.ksyms, "a"'
echo '	.balign 8'
echo '	.globl ksym_table, ksym_count'
echo 'ksym_table:'
nm -n --defined-only "$1" | awk '$2 ~ /^[tT]$/ { printf "\t.quad 0x%s, ksym_name_%d\n", $1, n++ }'
echo 'ksym_count:'
nm -n --defined-only "$1" | awk '$2 ~ /^[tT]$/ { n++ } END { printf "\t.quad %d\n", n }'
nm -n --defined-only "$1" | awk '$2 ~ /^[tT]$/ { printf "ksym_name_%d: .asciz \"%s\"\n", n++, $3 }'
