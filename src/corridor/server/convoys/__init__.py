"""convoys: convoy plans published for an operation, their trips, and re-plans after a closure."""
