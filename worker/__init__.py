"""The worker process: procrastinate jobs for webhook deliveries and journal retention."""
