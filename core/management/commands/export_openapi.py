import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.api.site import api, check_operation_ids


class Command(BaseCommand):
    help = "Write the OpenAPI schema of /api/v1/ to a file (or stdout with -)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("output", nargs="?", default="-")

    def handle(self, *args: Any, **options: Any) -> None:
        duplicates = check_operation_ids(api)
        if duplicates:
            raise CommandError(f"duplicate operationIds: {', '.join(duplicates)}")
        # Round-trip first: the schema mixes int and str keys (status codes), which sort_keys cannot order.
        text = json.dumps(json.loads(json.dumps(api.get_openapi_schema(), default=str)), indent=2, sort_keys=True)
        if options["output"] == "-":
            self.stdout.write(text)
        else:
            Path(options["output"]).write_text(text)
            self.stdout.write(f"wrote {options['output']}")
