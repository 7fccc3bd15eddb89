# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_git_dvc_global_optspecs
    string join \n h/help V/version
end

function __fish_git_dvc_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_git_dvc_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_git_dvc_using_subcommand
    set -l cmd (__fish_git_dvc_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c git-dvc -n "__fish_git_dvc_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -s V -l version -d 'Print version'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "add" -d 'Track files and directories with DVC, exactly as `dvc add` does'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "push" -d 'Upload the data that revisions reference to DVC remote storage'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "fetch" -d 'Download the data that revisions reference from DVC remote storage into the cache'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "checkout" -d 'Put the data the work tree\'s DVC files name in place, from the cache'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "pull" -d 'Download the data of the current state and put it in the work tree: fetch, then checkout'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "status" -d 'Show which data the remote is missing (`--cloud`), without uploading'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "check" -d 'Check that the data of committed revisions is in remote storage (for CI)'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "install" -d 'Install the hooks: pre-push, so every `git push` uploads the DVC data of the commits it sends; post-checkout, post-merge and post-rewrite, so every checkout, merge and rebase brings the new HEAD\'s data into the work tree'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "uninstall" -d 'Remove git-dvc\'s hooks (and restore chained previous hooks)'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "pre-push" -d 'Run by the pre-push hook: upload the data of the commits being pushed'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "pre-receive" -d 'Run by the server\'s pre-receive hook: reject pushes whose data is not in storage'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "post-checkout" -d 'Run by the post-checkout hook: bring the DVC data of the new HEAD into the work tree'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "post-merge" -d 'Run by the post-merge hook: bring the DVC data of the merged HEAD into the work tree'
complete -c git-dvc -n "__fish_git_dvc_needs_command" -f -a "post-rewrite" -d 'Run by the post-rewrite hook: bring the DVC data of a rebased HEAD into the work tree'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand add" -s q -l quiet -d 'Print nothing but errors'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s r -l remote -d 'Remote to use instead of the default (`core.remote`). Outputs pinned to another remote with `remote:` are skipped, as DVC does' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -l rev -d 'Also cover this revision (that commit only) or range (`main~5..main`, every commit in it). Repeatable' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s j -l jobs -d 'Parallel storage operations (default, also for 0: the remote\'s `jobs`, else 4 × CPUs)' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s a -l all-branches -d 'Also cover the tips of all local branches'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s T -l all-tags -d 'Also cover all tags (annotated tags peeled to their commits)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s A -l all-commits -d 'Also cover every commit reachable from HEAD, branches, remote-tracking branches and tags'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s d -l with-deps -d 'Include the stages and files the targets depend on'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s R -l recursive -d 'Treat directory targets as "every DVC file under it". A tracked directory holds no DVC file, so as a target it selects nothing, as in DVC'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -l glob -d 'Expand targets as glob patterns, as DVC does (Python\'s glob: `*`, `?`, `[…]`, `**` for any depth; wildcards skip names starting with `.`), against the work tree; for other revisions, against what each revision tracks (DVC files, outputs and the members of its directories). A match inside a tracked directory selects the whole directory. An error only when no pattern matches anything'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -l check-members -d 'Look up every member of each directory on the remote, even when its `.dir` is there. DVC takes a stored `.dir` as proof of its members; git-dvc checks them anyway when one listing answers for all at no extra request, and trusts the `.dir` only where checking would cost more requests than DVC makes (always on HTTP). This flag always checks: it finds members deleted from the remote and uploads them again'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -l run-cache -d 'Also push the run cache (`.dvc/cache/runs`: past stage runs, which `dvc repro` reuses after `dvc pull --run-cache`) to `-r` or the default remote, with the outputs of those runs still in the cache. Each entry goes after its outputs; entries already on the remote are not sent again'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -l no-run-cache -d 'Do not push the run cache (the default)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s q -l quiet -d 'Print nothing but errors'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s v -l verbose -d 'Explain what is being done (repeat for more)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s r -l remote -d 'Remote to use instead of the default (`core.remote`). Outputs pinned to another remote with `remote:` are skipped, as DVC does' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -l rev -d 'Also cover this revision (that commit only) or range (`main~5..main`, every commit in it). Repeatable' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s j -l jobs -d 'Parallel storage operations (default, also for 0: the remote\'s `jobs`, else 4 × CPUs)' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s a -l all-branches -d 'Also cover the tips of all local branches'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s T -l all-tags -d 'Also cover all tags (annotated tags peeled to their commits)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s A -l all-commits -d 'Also cover every commit reachable from HEAD, branches, remote-tracking branches and tags'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s d -l with-deps -d 'Include the stages and files the targets depend on'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s R -l recursive -d 'Treat directory targets as "every DVC file under it". A tracked directory holds no DVC file, so as a target it selects nothing, as in DVC'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -l glob -d 'Expand targets as glob patterns, as DVC does (Python\'s glob: `*`, `?`, `[…]`, `**` for any depth; wildcards skip names starting with `.`), against the work tree; for other revisions, against what each revision tracks (DVC files, outputs and the members of its directories). A match inside a tracked directory selects the whole directory. An error only when no pattern matches anything'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -l run-cache -d 'Also fetch the run cache (`runs/` on `-r` or the default remote: past stage runs, which `dvc repro` reuses) into the cache\'s `runs/`, as `dvc fetch --run-cache` does. Entries already in the cache are not downloaded again; names and contents that are not DVC\'s are refused. Not available on HTTP remotes (nor in DVC)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -l no-run-cache -d 'Do not fetch the run cache (the default)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s q -l quiet -d 'Print nothing but errors'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s v -l verbose -d 'Explain what is being done (repeat for more)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand checkout" -s d -l with-deps -d 'Also check out the outputs of the stages the targets depend on'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand checkout" -s R -l recursive -d 'Treat directory targets as "every DVC file under it"'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand checkout" -s f -l force -d 'Delete or replace files whose content is not in the cache (modified or unsaved files), instead of stopping with the list of them'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand checkout" -l relink -d 'Make every file again from the cache, unchanged ones too (after changing `cache.type`, say)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand checkout" -l allow-missing -d 'Do not fail for outputs whose data is not in the cache (nor for stages never run): they are left out'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand checkout" -l summary -d 'Print only the count of changed files (`No changes.` when nothing changed)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand checkout" -s q -l quiet -d 'Print nothing but errors'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand checkout" -s v -l verbose -d 'Explain what is being done (repeat for more)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand checkout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s r -l remote -d 'Remote to use instead of the default (`core.remote`). Outputs pinned to another remote with `remote:` are skipped, as DVC does' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -l rev -d 'Also cover this revision (that commit only) or range (`main~5..main`, every commit in it). Repeatable' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s j -l jobs -d 'Parallel storage operations (default, also for 0: the remote\'s `jobs`, else 4 × CPUs)' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s a -l all-branches -d 'Also cover the tips of all local branches'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s T -l all-tags -d 'Also cover all tags (annotated tags peeled to their commits)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s A -l all-commits -d 'Also cover every commit reachable from HEAD, branches, remote-tracking branches and tags'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s d -l with-deps -d 'Include the stages and files the targets depend on'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s R -l recursive -d 'Treat directory targets as "every DVC file under it". A tracked directory holds no DVC file, so as a target it selects nothing, as in DVC'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -l glob -d 'Expand targets as glob patterns, as DVC does (Python\'s glob: `*`, `?`, `[…]`, `**` for any depth; wildcards skip names starting with `.`), against the work tree; for other revisions, against what each revision tracks (DVC files, outputs and the members of its directories). A match inside a tracked directory selects the whole directory. An error only when no pattern matches anything'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s f -l force -d 'Delete or replace files whose content is not in the cache (modified or unsaved files), instead of stopping with the list of them'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -l allow-missing -d 'Do not fail for outputs whose data is neither in the cache nor on the remote: they are left out'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -l run-cache -d 'Also fetch the run cache (`runs/`: past stage runs, which `dvc repro` reuses)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -l no-run-cache -d 'Do not fetch the run cache (the default)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s q -l quiet -d 'Print nothing but errors'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s v -l verbose -d 'Explain what is being done (repeat for more)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pull" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s r -l remote -d 'Remote to use instead of the default (`core.remote`). Outputs pinned to another remote with `remote:` are skipped, as DVC does' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -l rev -d 'Also cover this revision (that commit only) or range (`main~5..main`, every commit in it). Repeatable' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s j -l jobs -d 'Parallel storage operations (default, also for 0: the remote\'s `jobs`, else 4 × CPUs)' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s c -l cloud -d 'Compare the cache with remote storage. Required: it is the only mode git-dvc has (for changes in the work tree, use `dvc status`)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s a -l all-branches -d 'Also cover the tips of all local branches'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s T -l all-tags -d 'Also cover all tags (annotated tags peeled to their commits)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s A -l all-commits -d 'Also cover every commit reachable from HEAD, branches, remote-tracking branches and tags'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s d -l with-deps -d 'Include the stages and files the targets depend on'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s R -l recursive -d 'Treat directory targets as "every DVC file under it". A tracked directory holds no DVC file, so as a target it selects nothing, as in DVC'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -l check-members -d 'Look up every member of each directory on the remote, even when its `.dir` is there. DVC takes a stored `.dir` as proof of its members; git-dvc checks them anyway when one listing answers for all at no extra request, and trusts the `.dir` only where checking would cost more requests than DVC makes (always on HTTP). This flag always checks: it finds members deleted from the remote'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -l json -d 'Print the status as a JSON object `{path: state}`'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s q -l quiet -d 'Print nothing but errors'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s v -l verbose -d 'Explain what is being done (repeat for more)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -l glob -d 'Expand targets as glob patterns, as `push --glob` does (git-dvc\'s own: DVC\'s status has no --glob)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s r -l remote -d 'Remote to use instead of the default (`core.remote`). Outputs pinned to another remote with `remote:` are skipped, as DVC does' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -l rev -d 'Also cover this revision (that commit only) or range (`main~5..main`, every commit in it). Repeatable' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s j -l jobs -d 'Parallel storage operations (default, also for 0: the remote\'s `jobs`, else 4 × CPUs)' -r
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -l storage-config -d 'Take remote locations and credentials only from this DVC config file (and FILE.local beside it), never from the checked commits or the work tree; also $GIT_DVC_STORAGE_CONFIG' -r -F
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s a -l all-branches -d 'Also cover the tips of all local branches'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s T -l all-tags -d 'Also cover all tags (annotated tags peeled to their commits)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s A -l all-commits -d 'Also cover every commit reachable from HEAD, branches, remote-tracking branches and tags'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s d -l with-deps -d 'Include the stages and files the targets depend on'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s R -l recursive -d 'Treat directory targets as "every DVC file under it". A tracked directory holds no DVC file, so as a target it selects nothing, as in DVC'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -l glob -d 'Expand targets as glob patterns, as DVC does (Python\'s glob: `*`, `?`, `[…]`, `**` for any depth; wildcards skip names starting with `.`), against the work tree; for other revisions, against what each revision tracks (DVC files, outputs and the members of its directories). A match inside a tracked directory selects the whole directory. An error only when no pattern matches anything'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -l json -d 'Print the result as JSON: `{"checked": N, "missing": [{path, revision, hash, remote}]}`'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s q -l quiet -d 'Print nothing but errors'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s v -l verbose -d 'Explain what is being done (repeat for more)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand install" -l hook -d 'Install only this client hook (repeatable; default: pre-push, post-checkout, post-merge and post-rewrite); with --print or --output, the one hook to write (default: pre-push)' -r -f -a "pre-push\t''
post-checkout\t''
post-merge\t''
post-rewrite\t''"
complete -c git-dvc -n "__fish_git_dvc_using_subcommand install" -l output -d 'Write one hook script to FILE (mode 0755) instead of installing it, for another hook manager (a global hooks directory, a template directory, gitolite\'s LOCAL_CODE, ...)' -r -F
complete -c git-dvc -n "__fish_git_dvc_using_subcommand install" -l force -d 'Overwrite existing hooks that git-dvc does not recognise (never a forge\'s own: under Gitea/Forgejo and GitLab git-dvc\'s hook goes beside it)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand install" -l chain -d 'Keep existing hooks and run each before git-dvc\'s (with git\'s arguments and stdin)'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand install" -l server -d 'Install the server-side pre-receive hook (in a bare repository) instead, where the server runs hooks: Gitea/Forgejo\'s hooks/pre-receive.d, GitLab\'s custom_hooks; for gitolite, print its steps'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand install" -l print -d 'Write one hook script (pre-push, the one --hook names, or pre-receive with --server) to stdout instead of installing it, for another hook manager'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand uninstall" -l server -d 'Remove the server-side pre-receive hook instead (in a bare repository), from where `install --server` put it: hooks/pre-receive (putting a hook kept by `--chain` back), Gitea/Forgejo\'s hooks/pre-receive.d/git-dvc, GitLab\'s custom_hooks/pre-receive.d/git-dvc'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pre-push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pre-receive" -l storage-config -d 'A server-wide DVC config file (and FILE.local beside it) with the storage pushes must reach; the repository\'s `$GIT_DIR/dvc/config` overrides it key by key where present. Also $GIT_DVC_STORAGE_CONFIG, or git config dvc.preReceive.storageConfig (system or global, for every repository of the server)' -r -F
complete -c git-dvc -n "__fish_git_dvc_using_subcommand pre-receive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand post-checkout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand post-merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-dvc -n "__fish_git_dvc_using_subcommand post-rewrite" -s h -l help -d 'Print help (see more with \'--help\')'
