"""Stand-in for the parts of A1111's `modules` package an extension touches
(like adetailer's test stubs): script_callbacks, shared.opts/OptionInfo/
cmd_opts, cmd_args. Enough surface for the host glue, faithful in names and
call order, nothing else."""
