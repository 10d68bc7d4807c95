"""
Celery tasks of the 1C exchange: thin, they load ids and call the code that does the
work (:mod:`integration_1c.protocol.pipeline`, ``integration_1c.services.importer``).
"""

from celery import shared_task

from integration_1c.protocol import pipeline


#: Imports are acknowledged when they end, and a worker process that dies mid-task hands
#: the message back to the broker (the pipeline's lease and checks decide what a
#: repeated delivery may still do).
RELIABLE = {"ignore_result": True, "acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="integration_1c.tasks.import_exchange_file", **RELIABLE)
def import_exchange_file(file_id):
    """Apply one uploaded file (``services.importer.apply_file``); its row records the outcome."""
    pipeline.run_import(file_id)


@shared_task(name="integration_1c.tasks.unpack_archive", **RELIABLE)
def unpack_archive(file_id):
    """Unpack an uploaded zip archive too big to unpack within an HTTP call."""
    pipeline.unpack_archive(file_id)


@shared_task(name="integration_1c.tasks.settle_deferred_work", ignore_result=True)
def settle_deferred_work():
    """What a catalogue file left to the file after it, if no file did it meanwhile (``services.importer``)."""
    pipeline.load_service("importer").settle_deferred_work()


@shared_task(name="integration_1c.tasks.cleanup_exchange_folders", ignore_result=True)
def cleanup_exchange_folders():
    """Remove upload folders older than conf ``ONEC_KEEP_EXCHANGE_HOURS`` (beat, every 6 hours)."""
    return len(pipeline.cleanup())
