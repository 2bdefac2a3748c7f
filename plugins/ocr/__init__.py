"""OCR engines implementing modules.timetable_import.ocr_port.OcrEngine.

The timetable_import module loads them by dotted path from the OCR_ENGINES setting (never by import), so
a deployment can add another engine without touching the module: OCR_ENGINE picks one by name.

* tesseract (default): needs the system packages
  ``apt-get install -y tesseract-ocr tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa``
  and the pip package pytesseract. Without the binary an import fails with a plain reason and
  /health/ready reports "ocr": down (informative, not required).
* google_vision: pip package google-cloud-vision; credentials from GOOGLE_APPLICATION_CREDENTIALS;
  OCR_ENGINE=google_vision.
"""
