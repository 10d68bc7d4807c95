"""Oscar's dashboard apps the shop forks: product search by 1C identifiers, the order list's columns."""
