/**
 * How a Linux report's guilty function is chosen, after syzkaller's `pkg/report`: the frames a format
 * names, minus the functions that report, lock, allocate or copy rather than cause, then picked
 * plainly, or for stalls and hangs by the anchors that tell where the looping code was entered.
 * Everything here is a pure function of function names.
 */

/**
 * Kernel plumbing that is never the culprit, matched anywhere in the name (as syzkaller's skip list is):
 * sanitizer and report machinery, locking, atomics, allocation, string and user-copy helpers, lists,
 * workqueue and device teardown. A frame of a Linux report whose name matches is passed over.
 */
const PLUMBING: readonly string[] = [
  // sanitizers and the report itself
  "__sanitizer|__asan|kasan|hwasan|__msan|kmsan|kcsan_setup_watchpoint|check_memory_region|check_heap_object",
  "check_object|read_word_at_a_time|(?:read|write)_once_.*nocheck|print_address_description|print_report",
  "panic|invalid_op|report_bug|fixup_bug|print_usage_bug|do_error|_trap$|do_trap|show_stack|dump_stack",
  "walk_stack|dump_backtrace|warn_slowpath|warn_alloc|warn_bogus|__warn|print_tainted|hex_dump_to_buffer",
  "print_hex_dump|stack_trace_consume_entry|arch_stack_walk|stack_trace_save|perf_trace|assertfail",
  "__fortify_report|^get_taint$|program_check_exception|program_check_common",
  // locking and lock debugging
  "lockdep|lock_acquire|lock_release|lock_class|mark_lock|(?:reacquire|mark)_held_locks|print_unlock",
  "imbalance_bug|raw_spin_rq|spin_lock|spin_trylock|spin_unlock|read_lock|read_trylock|write_lock",
  "write_trylock|read_unlock|write_unlock|^down$|down_read|down_write|down_trylock|up_read|up_write",
  "^mutex_|^__mutex_|^rt_mutex_|owner_on_cpu|osq_lock|osq_unlock|bh_enable|bh_disable",
  "(?:trace|lockdep)_(?:hard|soft)irq|^(?:un)?lock_page|seqprop_assert",
  // atomics, bit operations and reference counts
  "atomic(?:64)?_(?:dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)|(?:set|clear|change|test)_bit",
  "^refcount_|^kref_|ref_tracker|__wake_up|^complete$|wait_for_completion|finish_wait",
  // allocation and freeing
  "alloc_page|k?v?(?:m|z|c)alloc|krealloc|kmem_cache|allocate_slab|__alloc_frozen_pages_noprof|slab_",
  "folio_(?:alloc|unlock)|filemap_alloc_folio|ida_free|__phys_addr",
  "__filemap_get_folio|find_or_create_page|do_read_cache_folio|read_cache_page|pagecache_get_page",
  "grab_cache_page_write_begin|^kv?free$|kfree_skb|^iput$|^iput_final$|^ihold$|drop_nlink|dput",
  "mark_buffer_dirty",
  // strings, memory and user copies
  "memcpy|memcmp|memset|memchr|memmove|memdup|strcmp|strncmp|strcpy|strlcpy|strncpy|strscpy|strlen",
  "strstr|strnstr|strnlen|strchr|strdup|strndup|string|pointer|snprintf|scnprintf|kasprintf|kvasprintf",
  "printk|va_format|dev_(?:info|notice|warn|err|alert|crit|emerg)|copy_to_user|copy_from_user",
  "copy_to_iter|copy_from_iter|copy_page_to_iter|copy_page_from_iter|copy_folio_to_iter|^copyin$|^copyout$",
  "put_user|get_user|might_fault|might_sleep|__might_resched|_indirect_thunk_|^crc\\d+|crc_itu_t",
  "(?:read|write)[bwlq]$|logic_in|logic_out",
  // lists and trees
  "list_add|list_del|list_replace|list_move|list_splice|^rb_|^__rb_|^klist_|xas_(?:start|load|find)",
  "rhashtable_lookup|extract_(?:user|iter)_to_sg",
  // timers, workqueues and kthreads
  "del_timer|flush_work|__cancel_work_timer|cancel_work_sync|try_to_grab_pending|flush_workqueue",
  "drain_workqueue|destroy_workqueue|queue_work|insert_work|__queue_delayed_work|queue_delayed_work_on",
  "kthread_stop|debug_object|timer_is_static_object|work_is_static_object|cleanup_srcu_struct",
  "lock_timer_base|__timer_delete_sync|sk_stop_timer_sync|__mod_timer",
  // device and object teardown
  "kobject_|add_uevent_var|get_device_parent|device_add|device_del|device_unregister|device_destroy",
  "device_release|devres_release_all|device_for_each_child|device_remove_file|sysfs_remove",
  "rollback_registered|unregister_netdev|tty_unregister_device|hwrng_unregister|i2c_del_adapter",
  "__unregister_client|^put_device$|find_lock_entries|truncate_inode_pages_range",
  // USB submission and teardown: a URB's trouble belongs to the driver that made it
  "dummy_urb_enqueue|usb_kill_urb|usb_kill_anchored_urbs|usb_control_msg|usb_hcd_submit_urb|usb_submit_urb",
  // arm64 fault entry
  "do_(?:kernel|translation)_fault|do_mem_abort|el1_abort|el1h_64_sync(?:_handler)?",
];

export const LINUX_SKIP = new RegExp(PLUMBING.join("|"));

/**
 * Syscall wrappers differ by architecture and kernel version (`__x64_sys_`, `__do_sys_`, `SyS_`...):
 * removed, each at most once and in this order, so that one syscall gets one name.
 */
const SYSCALL_PREFIXES = [
  "SYSC_",
  "SyS_",
  "sys_",
  "__x64_",
  "__ia32_",
  "__arm64_",
  "____sys_",
  "___sys_",
  "__sys_",
  "__se_",
  "__do_sys_",
  "compat_SYSC_",
  "compat_SyS_",
  "ksys_",
];

/** `fn.cold.12` and `fn.isra.0` are `fn`: compiler clones keep their parent's name. */
export function baseName(fn: string): string {
  const dot = fn.indexOf(".");
  return dot > 0 ? fn.slice(0, dot) : fn;
}

/** A frame name as titles use it: without the syscall wrapper's prefix. */
export function withoutSyscallPrefix(fn: string): string {
  let name = fn;
  for (const p of SYSCALL_PREFIXES) if (name.startsWith(p)) name = name.slice(p.length);
  return name;
}

/**
 * Where stalled code was entered: a workqueue, a syscall, a softirq, a kthread, a file or socket
 * operation, a page fault. A stall is named after the frame just before (above) the first of them,
 * so that the same loop gets the same title wherever the watchdog happened to interrupt it.
 */
const STALL_ANCHORS = new RegExp(
  [
    "process_one_work|do_syscall_|do_fast_syscall_|sysenter_dispatch|tracesys_phase2|el0_svc_handler",
    "invoke_syscall|ret_fast_syscall|netif_receive_skb|do_softirq|call_timer_fn|_run_timers",
    "run_timer_softirq|hrtimer_run|run_ksoftirqd|smpboot_thread_fn|^kthread$|start_secondary",
    "cpu_startup_entry|ret_from_fork|vfs_write|vfs_read|vfs_iter_read|vfs_iter_write|do_iter_read",
    "do_iter_write|call_read_iter|call_write_iter|new_sync_read|new_sync_write|vfs_ioctl|ksys_ioctl",
    "compat_ioctl|compat_sys_ioctl|blkdev_driver_ioctl|blkdev_ioctl|do_iter_readv_writev|^call_mmap",
    "mmap_region|do_mmap|do_dentry_open|vfs_open|^sock_sendmsg|^sock_recvmsg|^sock_release",
    "^__sock_release|^setsockopt$|kernel_setsockopt|sock_common_setsockopt|^listen$|kernel_listen",
    "sk_common_release|^sock_mmap|^accept$|kernel_accept|^sock_do_ioctl|^sock_ioctl|^compat_sock_ioctl",
    "^nfnetlink_rcv_msg|^rtnetlink_rcv_msg|^netlink_dump|^(?:sys_)?(?:socketpair|connect|ioctl)",
    "__do_fault|do_page_fault|^page_fault$|__fput|task_work_run|exit_to_usermode|smp_call_function",
    "tasklet_action|tasklet_hi_action",
  ].join("|"),
);

/** A hung task waits for something: these say what it waited on, never who held it up. */
const HUNG_WAITING =
  /sched|_lock|_slowlock|down|rwsem|completion|kthread|wait|synchronize|context_switch|__switch_to|cancel_delayed_work|rcu_barrier/;

/** How the guilty function is picked from the frames left after skipping. */
export type Pick = "first" | "stall" | "hung";

/** The first frame. */
function pickFirst(frames: readonly string[]): string | undefined {
  return frames[0];
}

/** The frame above the first anchor (see {@link STALL_ANCHORS}); none when no anchor is there. */
function pickStall(frames: readonly string[]): string | undefined {
  let prev = frames[0];
  for (const f of frames) {
    if (STALL_ANCHORS.test(f)) return f.includes("smp_call_function") ? "smp_call_function" : prev;
    prev = f;
  }
  return undefined;
}

/**
 * Hung tasks show up in their victims, so the two usual culprits get one bucket each: everything
 * waiting on an RCU grace period, and everything waiting on the RTNL. Otherwise the first frame
 * that is not itself a way of waiting.
 */
function pickHung(frames: readonly string[]): string | undefined {
  for (const f of frames) {
    if (f.includes("rtnl_lock")) return f;
    if (/synchronize_(?:rcu|srcu|net|sched)/.test(f)) return "synchronize_rcu";
  }
  return frames.find((f) => !HUNG_WAITING.test(f));
}

export const PICKS: Readonly<Record<Pick, (frames: readonly string[]) => string | undefined>> = {
  first: pickFirst,
  stall: pickStall,
  hung: pickHung,
};

/**
 * The guilty function of a Linux report: candidates in report order, those the common list or the
 * format's own list skip dropped, syscall prefixes removed, then picked.
 */
export function linuxGuilty(
  candidates: readonly string[],
  skip: RegExp | undefined,
  pick: Pick,
): string | undefined {
  const kept = candidates
    .map(baseName)
    .filter((f) => f.length > 0 && !LINUX_SKIP.test(f) && !skip?.test(f))
    .map(withoutSyscallPrefix);
  return kept.length > 0 ? PICKS[pick](kept) : undefined;
}
