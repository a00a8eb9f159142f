"""Automata over byte classes: position automata, lazy DFAs and their products.

The AppArmor engine decides string-matching classes here, the way the kernel
matches them: each profile's rules become one DFA whose states name the rules that
match, and containment is a breadth-first search over a product of such DFAs.
"""
