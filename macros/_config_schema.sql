{#- Generated from src/segmentation/config_schema.yml by `python -m segmentation.config_schema`: do not edit. -#}
{% macro segments_config_schema() %}
{%- set text -%}{% raw %}
{
 "names": {
  "identifier": "^[a-z_][a-z0-9_]*$",
  "slug": "coalesce(nullif(trim(regexp_replace(lower(strip_accents({value})), '[^a-z0-9]+', '_', 'g'), '_'), ''), 'blank')"
 },
 "vars": {
  "segments_inputs": {
   "type": "mapping",
   "description": "Where the raw customers and orders come from and how their columns map to the input contract (docs/use_your_own_data.md). At least one of the two inputs is given.",
   "default_doc": "the committed demo seeds raw_customers and raw_orders",
   "checked_by": "macros/inputs.sql segments_input_config (at least one input)",
   "keys": {
    "customers": {
     "type": "mapping",
     "nullable": true,
     "description": "The customer table (one row per customer), or null when there is none.",
     "checked_by": "macros/inputs.sql: exactly one of seed, table or path; a path that matches no file, an empty file, a mapped column the input lacks (at execution time)",
     "keys": {
      "seed": {
       "type": "string",
       "min_length": 1,
       "description": "A dbt seed name (the demo's raw_customers, raw_orders)."
      },
      "table": {
       "type": "string",
       "min_length": 1,
       "description": "A table of the DuckDB database, e.g. my_schema.my_table."
      },
      "path": {
       "type": "string",
       "min_length": 1,
       "description": "A file path or glob (data/*.csv), read from the directory dbt runs in; a path that matches no file fails naming this key."
      },
      "format": {
       "type": "string",
       "allowed": [
        "csv",
        "csv.gz",
        "parquet",
        "whitespace"
       ],
       "default_doc": "from the file name: .parquet is parquet, anything else csv",
       "description": "Path inputs only: csv (also gzip-compressed), parquet, or whitespace-separated text."
      },
      "header": {
       "type": "boolean",
       "default_doc": "csv: true; whitespace: false",
       "description": "csv: the first line names the columns; whitespace: the first line is a header to skip."
      },
      "columns": {
       "type": [
        "mapping",
        "list"
       ],
       "nullable": true,
       "default_doc": "identity (a contract column is read from the input column of its name)",
       "description": "A mapping contract column: input column (null = the input has none); for format whitespace and header false CSV, the list of field names in file order (a name starting with an underscore is a field to ignore).",
       "checked_by": "macros/inputs.sql segments_input_fields (a list only without a header line, names are contract or attribute columns), segments_input_columns (the column exists)",
       "keys": {
        "customer_id": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "Required: the customer id (null is refused by segments_input_columns, naming the columns found)."
        },
        "signup_date": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "birth_date": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "age": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "gender": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "income": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "country": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "region": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "acquisition_channel": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        }
       },
       "items": {
        "type": "string",
        "min_length": 1
       }
      },
      "csv_options": {
       "type": "mapping",
       "nullable": true,
       "description": "Extra DuckDB read_csv options, e.g. {delim: ';', skip: 2}; not header, names, columns or types (every column is read as text).",
       "checked_by": "macros/inputs.sql segments_input_relation (option names, options the engine sets)",
       "values": {
        "type": [
         "string",
         "number",
         "boolean"
        ]
       }
      },
      "rules": {
       "type": "mapping",
       "nullable": true,
       "description": "Cleaning rules of the input (docs/use_your_own_data.md, \"rules\").",
       "keys": {
        "datetime_formats": {
         "type": "list",
         "nullable": true,
         "default": [],
         "items": {
          "type": "string",
          "min_length": 1
         },
         "description": "strptime formats tried after ISO 8601 and YYYYMMDD, e.g. ['%d/%m/%Y %H:%M']; %z for values with an offset.",
         "checked_by": "macros/cleaning.sql segments_check_strptime_format and segments_check_strptime_describes_date (DuckDB directives, a format that can describe a date)"
        },
        "timestamp_unit": {
         "type": "string",
         "nullable": true,
         "allowed": [
          "epoch_seconds",
          "epoch_milliseconds"
         ],
         "description": "Numbers of five digits or more in the date/timestamp columns are Unix epochs."
        },
        "number_format": {
         "type": "mapping",
         "nullable": true,
         "description": "Separators of exported numbers such as 1.234,50: {decimal: ',', thousands: '.'}.",
         "checked_by": "macros/cleaning.sql segments_number_format (the two separators differ)",
         "keys": {
          "decimal": {
           "type": "string",
           "allowed": [
            ".",
            ","
           ],
           "default": "."
          },
          "thousands": {
           "type": "string",
           "nullable": true,
           "allowed": [
            ".",
            ",",
            " ",
            "'",
            ""
           ],
           "default": ""
          }
         }
        }
       }
      },
      "attributes": {
       "type": "mapping",
       "nullable": true,
       "description": "Extra customer columns that become features: <name>: {column, type} or {expression, type: numeric}.",
       "checked_by": "macros/inputs.sql segments_input_attributes (the name is a new lower-case identifier, column or expression, the column exists) and macros/expressions.sql (the expression)",
       "values": {
        "type": "mapping",
        "required": [
         "type"
        ],
        "keys": {
         "column": {
          "type": "string",
          "min_length": 1,
          "default_doc": "the attribute's name",
          "description": "The input column."
         },
         "expression": {
          "type": "string",
          "min_length": 1,
          "description": "Arithmetic over input columns (a numeric attribute)."
         },
         "type": {
          "type": "string",
          "allowed": [
           "numeric",
           "categorical"
          ],
          "description": "How the value is parsed."
         }
        }
       }
      }
     }
    },
    "orders": {
     "type": "mapping",
     "nullable": true,
     "description": "The order lines (one row per order line), or null when there are none.",
     "checked_by": "macros/inputs.sql: exactly one of seed, table or path; a path that matches no file, an empty file, a mapped column the input lacks (at execution time)",
     "keys": {
      "seed": {
       "type": "string",
       "min_length": 1,
       "description": "A dbt seed name (the demo's raw_customers, raw_orders)."
      },
      "table": {
       "type": "string",
       "min_length": 1,
       "description": "A table of the DuckDB database, e.g. my_schema.my_table."
      },
      "path": {
       "type": "string",
       "min_length": 1,
       "description": "A file path or glob (data/*.csv), read from the directory dbt runs in; a path that matches no file fails naming this key."
      },
      "format": {
       "type": "string",
       "allowed": [
        "csv",
        "csv.gz",
        "parquet",
        "whitespace"
       ],
       "default_doc": "from the file name: .parquet is parquet, anything else csv",
       "description": "Path inputs only: csv (also gzip-compressed), parquet, or whitespace-separated text."
      },
      "header": {
       "type": "boolean",
       "default_doc": "csv: true; whitespace: false",
       "description": "csv: the first line names the columns; whitespace: the first line is a header to skip."
      },
      "columns": {
       "type": [
        "mapping",
        "list"
       ],
       "nullable": true,
       "default_doc": "identity (a contract column is read from the input column of its name)",
       "description": "A mapping contract column: input column (null = the input has none); for format whitespace and header false CSV, the list of field names in file order (a name starting with an underscore is a field to ignore).",
       "checked_by": "macros/inputs.sql segments_input_fields (a list only without a header line, names are contract or attribute columns), segments_input_columns (the column exists)",
       "keys": {
        "customer_id": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "Required: the customer id (null is refused by segments_input_columns, naming the columns found)."
        },
        "ordered_at": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "Required: when the line was ordered (null is refused by segments_input_columns)."
        },
        "order_id": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "line_number": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "product_category": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "sales_channel": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "quantity": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "unit_price": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "amount": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        },
        "status": {
         "type": "string",
         "nullable": true,
         "min_length": 1,
         "description": "The input column (null: the input has none)."
        }
       },
       "items": {
        "type": "string",
        "min_length": 1
       }
      },
      "csv_options": {
       "type": "mapping",
       "nullable": true,
       "description": "Extra DuckDB read_csv options, e.g. {delim: ';', skip: 2}; not header, names, columns or types (every column is read as text).",
       "checked_by": "macros/inputs.sql segments_input_relation (option names, options the engine sets)",
       "values": {
        "type": [
         "string",
         "number",
         "boolean"
        ]
       }
      },
      "rules": {
       "type": "mapping",
       "nullable": true,
       "description": "Cleaning rules of the input (docs/use_your_own_data.md, \"rules\").",
       "keys": {
        "datetime_formats": {
         "type": "list",
         "nullable": true,
         "default": [],
         "items": {
          "type": "string",
          "min_length": 1
         },
         "description": "strptime formats tried after ISO 8601 and YYYYMMDD, e.g. ['%d/%m/%Y %H:%M']; %z for values with an offset.",
         "checked_by": "macros/cleaning.sql segments_check_strptime_format and segments_check_strptime_describes_date (DuckDB directives, a format that can describe a date)"
        },
        "timestamp_unit": {
         "type": "string",
         "nullable": true,
         "allowed": [
          "epoch_seconds",
          "epoch_milliseconds"
         ],
         "description": "Numbers of five digits or more in the date/timestamp columns are Unix epochs."
        },
        "number_format": {
         "type": "mapping",
         "nullable": true,
         "description": "Separators of exported numbers such as 1.234,50: {decimal: ',', thousands: '.'}.",
         "checked_by": "macros/cleaning.sql segments_number_format (the two separators differ)",
         "keys": {
          "decimal": {
           "type": "string",
           "allowed": [
            ".",
            ","
           ],
           "default": "."
          },
          "thousands": {
           "type": "string",
           "nullable": true,
           "allowed": [
            ".",
            ",",
            " ",
            "'",
            ""
           ],
           "default": ""
          }
         }
        },
        "status_values": {
         "type": "mapping",
         "nullable": true,
         "default": {},
         "description": "Extra status spellings: <spelling>: completed | cancelled | returned.",
         "values": {
          "type": "string",
          "allowed": [
           "completed",
           "cancelled",
           "returned"
          ]
         }
        },
        "cancelled_when": {
         "type": "mapping",
         "nullable": true,
         "required": [
          "column",
          "prefix"
         ],
         "description": "Status cancelled for lines whose column starts with the prefix.",
         "checked_by": "macros/cleaning.sql segments_check_rule_columns (the input has the column)",
         "keys": {
          "column": {
           "type": "string",
           "allowed": [
            "customer_id",
            "ordered_at",
            "order_id",
            "line_number",
            "product_category",
            "sales_channel",
            "quantity",
            "unit_price",
            "amount",
            "status"
           ],
           "description": "A contract column of the orders."
          },
          "prefix": {
           "type": "string",
           "min_length": 1,
           "description": "The text it starts with, e.g. C."
          }
         }
        },
        "reject_non_positive": {
         "type": "list",
         "nullable": true,
         "default": [],
         "items": {
          "type": "string",
          "allowed": [
           "quantity",
           "unit_price",
           "amount"
          ]
         },
         "description": "Reject lines whose value is <= 0 (cancelled and returned lines exempt).",
         "checked_by": "macros/cleaning.sql segments_check_rule_columns (the input has the column)"
        },
        "deduplicate_exact_lines": {
         "type": "boolean",
         "default": true,
         "description": "true: exact copies of a line are kept once; false: every copy is a line."
        },
        "reject_zero_amount": {
         "type": "boolean",
         "default": true,
         "description": "true: a completed line of value 0 is rejected; false: a purchase of value 0."
        }
       }
      },
      "customer_attributes": {
       "type": "mapping",
       "nullable": true,
       "description": "Customer-level columns repeated on the order lines: <name>: {column, type, aggregate}.",
       "checked_by": "macros/inputs.sql segments_input_attributes (the name is a new lower-case identifier, the column exists, mean/min/max only for numeric)",
       "values": {
        "type": "mapping",
        "required": [
         "type"
        ],
        "keys": {
         "column": {
          "type": "string",
          "min_length": 1,
          "default_doc": "the attribute's name",
          "description": "The input column."
         },
         "type": {
          "type": "string",
          "allowed": [
           "numeric",
           "categorical"
          ],
          "description": "How the value is parsed."
         },
         "aggregate": {
          "type": "string",
          "allowed": [
           "most_frequent",
           "mean",
           "min",
           "max"
          ],
          "default": "most_frequent",
          "description": "How a customer's lines are combined (ties by the smallest value)."
         }
        }
       }
      }
     }
    }
   }
  },
  "segments_reference_date": {
   "type": "date",
   "nullable": true,
   "default": null,
   "description": "YYYY-MM-DD for recency and tenure; null = the day after the last order (else the last signup, else today).",
   "checked_by": "macros/reference_date.sql segments_validated_date (a real calendar date)"
  },
  "segments_timezone": {
   "type": "string",
   "min_length": 1,
   "default": "UTC",
   "description": "The business time zone (IANA name, e.g. Europe/Berlin): times without an offset are local to it; order dates, recency and tenure are taken in it. Timestamps are stored as UTC instants.",
   "checked_by": "macros/cleaning.sql segments_timezone (a time zone DuckDB knows)"
  },
  "segments_input_checks": {
   "type": "mapping",
   "description": "Thresholds of the staging checks of the inputs (stg_parse_report, stg_input_checks).",
   "checked_by": "macros/input_checks.sql (reject_warn_share <= reject_error_share)",
   "keys": {
    "unparseable_warn_share": {
     "type": "number",
     "minimum": 0,
     "maximum": 1,
     "default": 0.05,
     "description": "Warn when more than this share of a mapped column's values does not parse."
    },
    "reject_warn_share": {
     "type": "number",
     "minimum": 0,
     "maximum": 1,
     "default": 0.1,
     "description": "Warn when one reject reason (or all together) takes more than this share of an input's rows."
    },
    "reject_error_share": {
     "type": "number",
     "minimum": 0,
     "maximum": 1,
     "default": 0.5,
     "description": "Stop the build at staging when it takes more than this share."
    }
   }
  },
  "segments_plausible_age": {
   "type": "list",
   "items": {
    "type": "number"
   },
   "min_items": 2,
   "max_items": 2,
   "default": [
    16,
    100
   ],
   "description": "[lowest, highest]: ages outside are set to null and flagged.",
   "checked_by": "models/staging/stg_customers.sql (lowest <= highest)"
  },
  "segments_plausible_income": {
   "type": "list",
   "items": {
    "type": "number"
   },
   "min_items": 2,
   "max_items": 2,
   "default": [
    0,
    10000000
   ],
   "description": "[lowest, highest]: incomes outside are set to null and flagged (is_income_implausible).",
   "checked_by": "macros/cleaning.sql segments_plausible_range (lowest <= highest)"
  },
  "segments_feature_top_levels": {
   "type": "integer",
   "minimum": 1,
   "default": 8,
   "description": "Product categories and sales channels that get a spend-share column (the top ones by value)."
  },
  "segments_extra_feature_models": {
   "type": "list",
   "items": {
    "type": "string",
    "min_length": 1
   },
   "default": [],
   "description": "Models with one row per customer whose columns join customer_features.",
   "checked_by": "models/marts/customer_features.sql (the model exists and has customer_id)"
  },
  "segments_gross_margin": {
   "type": "number",
   "exclusive_minimum": 0,
   "maximum": 1,
   "default": 1.0,
   "description": "Margin applied to net revenue in historical_clv."
  },
  "segments_value_column": {
   "type": "string",
   "min_length": 1,
   "default": "monetary_value",
   "description": "The customer_features column summed in the segment profiles and the semantic layer.",
   "checked_by": "models/marts/segment_profiles.sql (the column exists)"
  },
  "segments_eda_features": {
   "type": "mapping",
   "nullable": true,
   "default": null,
   "default_doc": "every numeric and categorical column of customer_features",
   "description": "The columns the EDA tables describe, {numeric: [...], categorical: [...]}.",
   "checked_by": "macros/eda.sql segments_eda_columns (the columns exist)",
   "keys": {
    "numeric": {
     "type": "list",
     "nullable": true,
     "items": {
      "type": "string",
      "min_length": 1
     }
    },
    "categorical": {
     "type": "list",
     "nullable": true,
     "items": {
      "type": "string",
      "min_length": 1
     }
    }
   }
  },
  "segments_eda_top_levels": {
   "type": "integer",
   "minimum": 1,
   "default": 10,
   "description": "Categorical levels beyond the top N are grouped in the EDA tables."
  },
  "segments_eda_histogram_bins": {
   "type": "integer",
   "minimum": 1,
   "default": 20,
   "description": "Number of fixed-width bins of the EDA histograms."
  },
  "segments_eda_rank_sample_rows": {
   "type": "integer",
   "nullable": true,
   "minimum": 1,
   "default": 200000,
   "description": "Above this many customers, EDA quantiles, medians (also segment_profiles'), ranks and correlations use a fixed customer_id-hash sample of about this many customers and distinct counts HyperLogLog; the tables say which (docs/eda.md). null = always exact."
  },
  "segments_lifecycle_mode": {
   "type": "string",
   "nullable": true,
   "allowed": [
    "auto",
    "refit",
    "score"
   ],
   "default": null,
   "description": "Overrides segmentation.lifecycle.mode for one command; null = the configured mode."
  },
  "segmentation": {
   "type": "mapping",
   "required": [
    "features"
   ],
   "description": "The clustering features and the clustering, lifecycle and CLV settings.",
   "keys": {
    "features": {
     "type": "list",
     "min_items": 1,
     "description": "The clustering features: columns of customer_features and how they enter the distance (docs/features.md); a bare name is a numeric feature.",
     "checked_by": "segmentation.settings.FeatureSpec (transform and mean/median impute only for numeric, impute_value with constant, levels for ordinal, names unique, the column exists)",
     "items": {
      "type": "mapping",
      "shorthand": "name",
      "required": [
       "name"
      ],
      "keys": {
       "name": {
        "type": "string",
        "description": "A column of customer_features (a lower-case identifier)."
       },
       "kind": {
        "type": "string",
        "allowed": [
         "numeric",
         "categorical",
         "ordinal"
        ],
        "default": "numeric",
        "description": "ordinal: levels give the order, mapped to 0..1; categorical: one-hot."
       },
       "transform": {
        "type": "string",
        "allowed": [
         "none",
         "log1p"
        ],
        "default": "none",
        "description": "Applied before imputation and scaling (numeric only)."
       },
       "impute": {
        "type": "string",
        "allowed": [
         "median",
         "mean",
         "most_frequent",
         "constant"
        ],
        "default_doc": "numeric: median; else most_frequent",
        "description": "How a missing value is filled."
       },
       "impute_value": {
        "type": [
         "number",
         "string"
        ],
        "nullable": true,
        "default": null,
        "description": "The value of impute constant."
       },
       "missing_indicator": {
        "type": "boolean",
        "default": false,
        "description": "Add a 0/1 column saying the value was missing."
       },
       "weight": {
        "type": "number",
        "exclusive_minimum": 0,
        "default": 1.0,
        "description": "Multiplies the scaled column(s)."
       },
       "levels": {
        "type": "list",
        "default": [],
        "items": {
         "type": [
          "string",
          "number"
         ]
        },
        "description": "Ordinal only: the levels in order (>= 2, distinct)."
       },
       "min_level_share": {
        "type": "number",
        "minimum": 0,
        "exclusive_maximum": 1,
        "default": 0.01,
        "description": "Rarer categorical levels are grouped into __other__."
       },
       "label": {
        "type": "string",
        "nullable": true,
        "min_length": 1,
        "default": null,
        "description": "The word used in generated segment names (default the column name)."
       },
       "high_label": {
        "type": "string",
        "nullable": true,
        "min_length": 1,
        "default": null,
        "description": "The word for a high value in segment names."
       },
       "low_label": {
        "type": "string",
        "nullable": true,
        "min_length": 1,
        "default": null,
        "description": "The word for a low value in segment names."
       }
      }
     }
    },
    "clustering": {
     "type": "mapping",
     "nullable": true,
     "description": "How segments are found (segmentation.settings.ClusteringSettings).",
     "checked_by": "segmentation.settings.ClusteringSettings (methods unique, k_min <= k_max, k <= customers - 1)",
     "keys": {
      "methods": {
       "type": [
        "list",
        "string"
       ],
       "min_items": 1,
       "items": {
        "type": "string",
        "allowed": [
         "kmeans",
         "hierarchical"
        ]
       },
       "allowed": [
        "kmeans",
        "hierarchical"
       ],
       "default": [
        "kmeans",
        "hierarchical"
       ],
       "description": "The clustering methods."
      },
      "k": {
       "type": [
        "integer",
        "string"
       ],
       "default": "auto",
       "description": "auto (best silhouette, cross-checked with the elbow) or a number >= 2."
      },
      "k_min": {
       "type": "integer",
       "minimum": 2,
       "default": 2,
       "description": "Smallest k of the sweep."
      },
      "k_max": {
       "type": "integer",
       "minimum": 2,
       "default": 10,
       "description": "Largest k of the sweep."
      },
      "seed": {
       "type": "integer",
       "minimum": 0,
       "default": 42,
       "description": "Random seed of K-Means and the samples."
      },
      "n_init": {
       "type": "integer",
       "minimum": 1,
       "default": 10,
       "description": "K-Means restarts."
      },
      "linkage": {
       "type": "string",
       "allowed": [
        "ward",
        "average",
        "complete"
       ],
       "default": "ward",
       "description": "Linkage of the hierarchical clustering."
      },
      "hierarchical_k": {
       "type": [
        "integer",
        "string"
       ],
       "default": "same",
       "description": "same (the K-Means k) or a number >= 2."
      },
      "fit_sample_max_rows": {
       "type": "integer",
       "minimum": 1000,
       "default": 50000,
       "description": "Above this many customers K-Means is fitted on a seeded sample."
      },
      "exact_silhouette_max_rows": {
       "type": "integer",
       "minimum": 100,
       "default": 10000,
       "description": "Silhouette is exact up to this many customers."
      },
      "silhouette_sample_size": {
       "type": "integer",
       "minimum": 100,
       "default": 10000,
       "description": "The sample of the estimated silhouette."
      },
      "exact_hierarchical_max_rows": {
       "type": "integer",
       "minimum": 100,
       "default": 20000,
       "description": "Hierarchical clustering is exact up to this many customers",
       "two-stage above.": null
      },
      "micro_clusters": {
       "type": "integer",
       "minimum": 10,
       "default": 500,
       "description": "K-Means micro-clusters of the two-stage hierarchical clustering."
      },
      "min_segment_share": {
       "type": "number",
       "minimum": 0,
       "exclusive_maximum": 1,
       "default": 0.02,
       "description": "Segments smaller than this share are flagged."
      },
      "outlier_fence": {
       "type": "number",
       "nullable": true,
       "exclusive_minimum": 0,
       "default": 3.0,
       "description": "Outliers (beyond this many 5-95 % ranges) are left out of the fit; null: off."
      }
     }
    },
    "lifecycle": {
     "type": "mapping",
     "nullable": true,
     "description": "Fit or score, stable segment ids across refits, drift thresholds (docs/lifecycle.md).",
     "keys": {
      "mode": {
       "type": "string",
       "allowed": [
        "auto",
        "refit",
        "score"
       ],
       "default": "auto",
       "description": "auto: refit when the fit configuration changed; refit; score with the active model."
      },
      "match_max_distance": {
       "type": "number",
       "exclusive_minimum": 0,
       "default": 1.5,
       "description": "A new segment keeps a previous id only within this centroid distance."
      },
      "psi_threshold": {
       "type": "number",
       "exclusive_minimum": 0,
       "default": 0.25,
       "description": "A feature whose PSI exceeds this has drifted."
      },
      "drifted_feature_share_threshold": {
       "type": "number",
       "minimum": 0,
       "default": 0.5,
       "description": "Refit recommended above this share of drifted features."
      },
      "changed_share_threshold": {
       "type": "number",
       "exclusive_minimum": 0,
       "default": 0.25,
       "description": "Refit recommended above this share of customers who changed segment."
      },
      "distance_ratio_threshold": {
       "type": "number",
       "exclusive_minimum": 0,
       "default": 1.25,
       "description": "Refit recommended above this ratio of mean centroid distances."
      },
      "psi_bins": {
       "type": "integer",
       "minimum": 2,
       "default": 10,
       "description": "Quantile bins of a numeric feature's PSI."
      }
     }
    },
    "clv": {
     "type": "mapping",
     "nullable": true,
     "description": "Predictive CLV, BG/NBD + Gamma-Gamma (docs/clv.md).",
     "checked_by": "segmentation.clv.settings.ClvSettings (churn_high_below <= churn_medium_below); macros/clv.sql (holdout_end needs calibration_end and is after it)",
     "keys": {
      "time_unit": {
       "type": "string",
       "allowed": [
        "days",
        "weeks"
       ],
       "default": "weeks",
       "description": "Unit of frequency",
       "recency and T.": null
      },
      "calibration_end": {
       "type": "date",
       "nullable": true,
       "default": null,
       "description": "YYYY-MM-DD; null = the reference date minus one day."
      },
      "holdout_end": {
       "type": "date",
       "nullable": true,
       "default": null,
       "description": "YYYY-MM-DD after calibration_end: the clv_holdout check."
      },
      "horizon_days": {
       "type": "number",
       "exclusive_minimum": 0,
       "default": 365.0,
       "description": "CLV and expected-purchase horizon in days."
      },
      "annual_discount_rate": {
       "type": "number",
       "minimum": 0,
       "default": 0.1,
       "description": "Annual discount rate of the CLV."
      },
      "discount_step_days": {
       "type": "number",
       "exclusive_minimum": 0,
       "default": 30.416666666666668,
       "description": "Length of one discounting step in days (a twelfth of a year)."
      },
      "min_customers": {
       "type": "integer",
       "minimum": 1,
       "default": 100,
       "description": "BG/NBD minimum number of customers."
      },
      "min_repeat_customers": {
       "type": "integer",
       "minimum": 1,
       "default": 20,
       "description": "BG/NBD minimum number of customers with a repeat purchase."
      },
      "min_gamma_gamma_customers": {
       "type": "integer",
       "minimum": 1,
       "default": 20,
       "description": "Gamma-Gamma minimum number of repeat customers."
      },
      "bg_nbd_penalizer": {
       "type": "number",
       "minimum": 0,
       "default": 0.0,
       "description": "L2 penalty of the BG/NBD fit."
      },
      "gamma_gamma_penalizer": {
       "type": "number",
       "minimum": 0,
       "default": 0.0,
       "description": "L2 penalty of the Gamma-Gamma fit."
      },
      "churn_high_below": {
       "type": "number",
       "minimum": 0,
       "maximum": 1,
       "default": 0.3,
       "description": "P(alive) below this is high churn risk."
      },
      "churn_medium_below": {
       "type": "number",
       "minimum": 0,
       "maximum": 1,
       "default": 0.7,
       "description": "P(alive) below this is medium churn risk."
      },
      "max_iterations": {
       "type": "integer",
       "minimum": 1,
       "default": 1000,
       "description": "Optimiser iteration limit."
      },
      "fit_sample_max_customers": {
       "type": "integer",
       "minimum": 1,
       "default": 50000,
       "description": "Above this many customers the models are fitted on a seeded sample."
      },
      "fit_sample_seed": {
       "type": "integer",
       "minimum": 0,
       "default": 0,
       "description": "Seed of that sample."
      }
     }
    }
   }
  }
 }
}
{% endraw %}{%- endset -%}
{{ return(fromjson(text)) }}
{% endmacro %}
