"""OCR engines implementing modules.timetable_import.ocr_port.OcrEngine.

The timetable_import module loads them by dotted path from the OCR_ENGINES setting (never by import), so
a deployment can add another engine without touching the module.
"""
