"""JUnit XML (for GitLab, Jenkins and other CI test reports): one test case per
checked pair; expansions and undecided pairs fail, pairs that could not be checked
are errors."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..verify.result import Verdict
from .text import result_to_text


def _seconds(pair) -> float:
    """The pair's wall-clock time where the run measured it, else its solver time."""
    return pair.seconds or (pair.result.seconds if pair.result is not None else 0.0)


def pairs_to_junit(pairs, suite: str = "lsmsim check") -> str:
    """The XML document of a run of pairs (:mod:`lsmsim.batch.pairs`)."""
    failures = sum(p.result is not None and p.result.verdict is not Verdict.CONTAINED
                   for p in pairs)
    errors = sum(p.result is None for p in pairs)
    seconds = sum(_seconds(p) for p in pairs)
    counts = {"tests": str(len(pairs)), "failures": str(failures), "errors": str(errors),
              "time": f"{seconds:.3f}"}
    root = ET.Element("testsuites", name="lsmsim", **counts)
    suite_node = ET.SubElement(root, "testsuite", name=suite, skipped="0", **counts)
    for pair in pairs:
        case = ET.SubElement(suite_node, "testcase", classname=pair.parent_file,
                             name=pair.title,
                             time=f"{_seconds(pair):.3f}")
        if pair.result is None:
            ET.SubElement(case, "error", message=pair.error or "error",
                          type="error").text = pair.error
        elif pair.result.verdict is not Verdict.CONTAINED:
            result = pair.result
            message = (f"{len(result.denials)} expansion(s)" if result.denials
                       else f"{len(result.undecided)} undecided rule(s)")
            ET.SubElement(case, "failure", message=message,
                          type=result.verdict.value).text = result_to_text(result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
