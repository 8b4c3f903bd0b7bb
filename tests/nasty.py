"""Strings that try to escape whatever they are pasted into: Python source, HTML, YAML, Markdown."""

NASTY = [
    'say "hi"', "it's", '"""; import os; os.system("id"); """', "'''\nraise SystemExit('x')\n'''",
    "line\nhf_oauth: true", "a: b", "---", "\n---\n", "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>", "`code` and ```fence```", "a | b | c", "{{ config }} {% if x %}",
    "line\u2028separator\u2029paragraph", "back\\slash\\n", "[link](javascript:alert(1))", "# heading",
    "$\\frac{1}$", "tab\there & amp", "- item", "> quote",
]
