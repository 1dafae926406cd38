#!/usr/bin/env python3
"""Makes the small .xlsx fixtures of Tests/KoiTests/Ingest/WorkbookTests.swift.

Real-world shapes of clinic exports: Chinese headers, a merged title row
above the header, dates as date cells and as text, numbers stored as text,
empty cells, a total row at the bottom, two yearly sheets with an
overlapping row, a hidden sheet, the 1904 date system, formulas with and
without a saved value, an inline string.

    python3 -m venv /tmp/venv-openpyxl && /tmp/venv-openpyxl/bin/pip install openpyxl
    /tmp/venv-openpyxl/bin/python Tests/KoiTests/Fixtures/xlsx/make.py

The output is committed; rerunning gives the same cells (zip timestamps
may differ). openpyxl writes formulas without a saved (cached) value, as
any program that does not calculate does; formulas.xlsx gets one saved value
by editing the sheet XML with zipfile.
"""
import datetime as dt
import os
import re
import shutil
import zipfile

import openpyxl
from openpyxl.workbook.properties import CalcProperties

HERE = os.path.dirname(os.path.abspath(__file__))


def save(wb, name):
    path = os.path.join(HERE, name)
    wb.save(path)
    return path


def chinese():
    """Title row merged over A1:F1, a blank row, the header on row 3."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "消费明细"
    ws["A1"] = "2025年第一季度消费明细（导出）"
    ws.merge_cells("A1:F1")
    ws.append([])  # row 2 empty
    ws.append(["会员号", "消费日期", "品项", "实收金额", "原价", "门店"])  # row 3
    rows = [
        ("K001", dt.datetime(2025, 1, 5, 14, 22), "玻尿酸", 3800, 4500, "静安店"),   # row 4: date cell with time
        ("K002", "2025/1/6", "水光针", "1280", None, "徐汇店"),                      # row 5: date and amount as text, empty list price
        ("K001", dt.date(2025, 2, 7), "热玛吉", 12800.5, 15000, None),              # row 6: empty store
        ("K003", dt.date(2025, 3, 1), "玻尿酸", 3600, 4500, "静安店"),               # row 7
        ("K004", "2025年3月2日", "水光针", 980, 1200, "徐汇店"),                     # row 8: a date form Koi does not read
    ]
    for r in rows:
        ws.append(list(r))
    for row in ws.iter_rows(min_row=4, max_row=8, min_col=2, max_col=2):
        for c in row:
            if isinstance(c.value, (dt.date, dt.datetime)):
                c.number_format = "yyyy/m/d h:mm" if isinstance(c.value, dt.datetime) else "yyyy-mm-dd"
    ws.append([])  # row 9 empty
    ws.append(["合计", None, None, "=SUM(D4:D8)", None, None])  # row 10: a total row
    return save(wb, "chinese.xlsx")


def two_sheets():
    """A hidden lookup sheet first, then two yearly sheets sharing a row."""
    wb = openpyxl.Workbook()
    lookup = wb.active
    lookup.title = "lookup"
    lookup.append(["code", "name"])
    lookup.append(["F", "filler"])
    lookup.sheet_state = "hidden"
    header = ["customer_id", "date", "item", "amount"]
    s24 = wb.create_sheet("2024")
    s24.append(header)
    for r in [("c1", dt.date(2024, 11, 3), "filler", 3000),
              ("c2", dt.date(2024, 12, 30), "botox", 1500),
              ("c2", dt.date(2024, 12, 31), "botox", 1500)]:
        s24.append(list(r))
    s25 = wb.create_sheet("2025")
    s25.append(["item", "amount", "customer_id", "date"])  # another column order
    for r in [("botox", 1500, "c2", dt.date(2024, 12, 31)),  # the overlap: same as 2024 row 4
              ("filler", 3100, "c1", dt.date(2025, 5, 3)),
              ("filler", 2900, "c3", dt.date(2025, 6, 1))]:
        s25.append(list(r))
    for ws in (s24, s25):
        for row in ws.iter_rows(min_row=2):
            for c in row:
                if isinstance(c.value, dt.date):
                    c.number_format = "yyyy-mm-dd"
    return save(wb, "two-sheets.xlsx")


def date1904():
    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["customer_id", "date", "item", "amount"])
    ws.append(["m1", dt.date(2025, 3, 5), "filler", 100])
    ws.append(["m2", dt.date(2025, 3, 6), "filler", 200])
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        for c in row:
            c.number_format = "m/d/yy"  # a custom date format
    return save(wb, "date1904.xlsx")


def formulas():
    """Amounts as formulas; D2 gets a saved value by editing the XML, D3 has none.
    B4 is a plain number (a serial day, 2025-01-03) with no date style, in the date column.
    A5 becomes an inline string."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["customer_id", "date", "item", "amount"])
    ws.append(["f1", "2025-01-02", "filler", "=100+20"])
    ws.append(["f2", "2025-01-03", "filler", "=100+30"])
    ws.append(["f3", 45660, "filler", 90])        # 45660 = 2025-01-03 in the 1900 system (45658 = 2025-01-01)
    ws.append(["PLACEHOLDER", "2025-01-05", "filler", 80])
    path = save(wb, "formulas.xlsx")
    tmp = path + ".tmp"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode("utf-8")
                # A saved value for D2 only.
                xml, n = re.subn(r'(<c r="D2"[^>]*>)<f>100\+20</f><v\s*/?>(</v>)?', r'\1<f>100+20</f><v>120</v>', xml)
                if n == 0:
                    xml, n = re.subn(r'(<c r="D2"[^>]*>)<f>100\+20</f>', r'\1<f>100+20</f><v>120</v>', xml)
                assert n == 1, "D2 formula not found"
                # A5 as an inline string instead of a shared one.
                xml, n = re.subn(r'<c r="A5"[^>]*>.*?</c>', '<c r="A5" t="inlineStr"><is><t>f&amp;5</t></is></c>', xml)
                assert n == 1, "A5 not found"
                data = xml.encode("utf-8")
            zout.writestr(item, data)
    shutil.move(tmp, path)
    return path


def to_shared_strings(path):
    """Moves every inline string into xl/sharedStrings.xml, as Excel writes
    them (openpyxl writes inline strings). "botox" becomes rich text in two
    runs, and each string item gets a phonetic run that must not be read."""
    tmp = path + ".tmp"
    strings = []
    index = {}

    def shared(m):
        text = m.group(2)
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return '%s t="s"><v>%d</v></c>' % (m.group(1), index[text])

    with zipfile.ZipFile(path) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    out = []
    for item, data in items:
        if item.filename.startswith("xl/worksheets/sheet"):
            xml = data.decode("utf-8")
            xml = re.sub(r'(<c r="[A-Z]+[0-9]+"[^>]*?) t="inlineStr"><is><t>(.*?)</t></is></c>', shared, xml)
            data = xml.encode("utf-8")
        elif item.filename == "xl/_rels/workbook.xml.rels":
            xml = data.decode("utf-8")
            xml = xml.replace("</Relationships>",
                '<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            data = xml.encode("utf-8")
        elif item.filename == "[Content_Types].xml":
            xml = data.decode("utf-8")
            xml = xml.replace("</Types>",
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            data = xml.encode("utf-8")
        out.append((item, data))
    sis = []
    for t in strings:
        if t == "botox":
            sis.append('<si><r><t>bo</t></r><r><rPr><b/></rPr><t>tox</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>')
        else:
            sis.append('<si><t xml:space="preserve">%s</t></si>' % t)
    sst = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
           % (len(strings), len(strings), "".join(sis)))
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item, data in out:
            zout.writestr(item, data)
        zout.writestr("xl/sharedStrings.xml", sst.encode("utf-8"))
    shutil.move(tmp, path)


if __name__ == "__main__":
    for f in (chinese, two_sheets, date1904, formulas):
        print(f())
    # Excel's own layout: shared strings.
    for name in ("two-sheets.xlsx", "date1904.xlsx"):
        to_shared_strings(os.path.join(HERE, name))
