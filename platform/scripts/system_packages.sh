# Sourced: install the Debian packages OCR needs (Tesseract 5 with English, German, French, Spanish)
# when missing and we may (root with apt-get). Without them the OCR import fails with a clear reason.
install_system_packages() {
  local wanted="tesseract-ocr tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa fonts-dejavu-core $*"
  local missing=""
  for pkg in $wanted; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing system packages:$missing"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null \
      || echo "warning: could not install$missing; OCR imports will report Tesseract missing"
  else
    echo "note: install$missing (apt-get install$missing) for OCR timetable import"
  fi
}
