"""
The journal's periodic task (Celery beat, every minute): end the exchanges that are
over (``services.journal.close_finished``). Thin, as every task.
"""

from celery import shared_task

from integration_1c.services import journal


@shared_task(name="integration_1c.journal_tasks.close_finished_exchanges", ignore_result=True)
def close_finished_exchanges():
    """Mark «Завершён» / «Ошибка» the exchanges whose files are done and that went quiet."""
    return journal.close_finished()
